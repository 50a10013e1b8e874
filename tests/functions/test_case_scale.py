"""Requests that do not grow with the library (issue 15): paged case view, counts kept on the
documents, a worklist page as one query, export requests by point reads, comments never cut off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared_code.domain.common import new_id
from shared_code.ports import CLINICS, PATIENTS
from shared_code.services import access
from tests.support.counting_store import CountingStore
from tests.support.export_memory_probe import ready_image_doc
from tests.support.library_helpers import build_scene, ok


@pytest.fixture
def scene(client):
    return build_scene(client)


def seed_ready(client, patient_id: str, folder_id: str, count: int, *, keep_count: bool = True) -> list[str]:
    """`count` ready photos stored directly (one a day), as processing leaves them; ids oldest first."""
    store, now = client.services.store, client.services.clock.now()
    first = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    ids = []
    for n in range(count):
        image_id = new_id("img")
        store.create(PATIENTS, ready_image_doc(patient_id, folder_id, image_id, first + timedelta(days=n), now, 1000 + n, 640, 480))
        access.register_owner(store, "img", image_id, patient_id, folder_id)
        ids.append(image_id)
    folder = store.read(PATIENTS, patient_id, folder_id)
    if keep_count:
        folder["readyImageCount"] = folder.get("readyImageCount", 0) + count
    else:
        folder.pop("readyImageCount", None)  # a folder stored before counts were kept
    store.replace(PATIENTS, folder, if_match=folder["_etag"])
    return ids


def folders_made_apart(client, scene, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        client.services.clock.advance(minutes=1)
        ids.append(scene.folder(name))
    return ids


def case_doc(client, scene) -> dict:
    return client.services.store.read(CLINICS, scene.clinic["id"], scene.case_id())


def test_case_view_pages_folders_then_each_folders_photos_newest_first(scene, client):
    folders = folders_made_apart(client, scene, [f"Mole {n}" for n in range(3)])
    ids = seed_ready(client, scene.patient_id, folders[0], 120)
    scene.share()
    url = f"/api/clinic/cases/{scene.case_id()}"
    first = ok(client.get(f"{url}?limit=2", token=scene.doctor.token))
    assert [f["id"] for f in first["folders"]] == folders[:2]
    assert first["imageCount"] == 120 and first["newImageCount"] == 120
    mole = first["folders"][0]
    assert mole["imageCount"] == 120 and "readyImageCount" not in mole
    assert [i["id"] for i in mole["images"]] == list(reversed(ids))[:50]
    seen = [i["id"] for i in mole["images"]]
    token = mole["imagesContinuationToken"]
    while token:  # the folder's older photos, through the folder's own list
        page = ok(client.get(f"/api/folders/{folders[0]}/images?continuationToken={token}", token=scene.doctor.token))
        seen += [i["id"] for i in page["items"]]
        token = page["continuationToken"]
    assert seen == list(reversed(ids))
    second = ok(client.get(f"{url}?limit=2&continuationToken={first['foldersContinuationToken']}", token=scene.doctor.token))
    assert [f["id"] for f in second["folders"]] == folders[2:] and second["foldersContinuationToken"] is None


def test_case_view_of_named_folders_reads_them_by_id_and_pages_them(scene, client):
    folders = [scene.folder(f"Scar {n}") for n in range(3)]
    scene.share(folder_ids=[folders[2], folders[0]])
    first = ok(client.get(f"/api/clinic/cases/{scene.case_id()}?limit=1", token=scene.doctor.token))
    second = ok(client.get(f"/api/clinic/cases/{scene.case_id()}?continuationToken={first['foldersContinuationToken']}", token=scene.doctor.token))
    assert {f["id"] for f in first["folders"] + second["folders"]} == {folders[0], folders[2]}
    assert second["foldersContinuationToken"] is None
    assert client.get(f"/api/clinic/cases/{scene.case_id()}?continuationToken=%%%", token=scene.doctor.token).status == 400


def test_case_view_reads_the_same_documents_at_50_and_500_photos(scene, client):
    small, large = folders_made_apart(client, scene, ["Small", "Large"])
    seed_ready(client, scene.patient_id, small, 50)
    scene.share()
    counting = CountingStore(client.services.store)
    client.services.store = counting
    url = f"/api/clinic/cases/{scene.case_id()}"
    ok(client.get(url, token=scene.doctor.token))
    before = counting.documents_read
    seed_ready(client, scene.patient_id, large, 450)
    counting.reset()
    body = ok(client.get(url, token=scene.doctor.token))
    assert counting.documents_read <= before + 50  # the second folder's first page, not its 450 photos
    assert [f["imageCount"] for f in body["folders"]] == [50, 450]


def test_counts_follow_photos_arriving_and_going_and_the_share_widening(scene, client):
    mole, scar = scene.folder("Mole"), scene.folder("Scar")
    scene.photo(mole)
    scene.share(folder_ids=[mole])
    assert case_doc(client, scene)["imageCount"] == 1
    second = scene.photo(mole, seed=2)
    scene.photo(scar, seed=3)  # not in scope
    case = case_doc(client, scene)
    assert (case["imageCount"], case["newImageCount"]) == (2, 2)
    assert client.delete(f"/api/images/{second}", token=scene.patient.token).status == 204
    case = case_doc(client, scene)
    assert (case["imageCount"], case["newImageCount"]) == (1, 1)
    assert client.services.store.read(PATIENTS, scene.patient_id, mole)["readyImageCount"] == 1
    scene.share(folder_ids=[mole, scar])  # widened: recounted from the folders' counts
    assert case_doc(client, scene)["imageCount"] == 2
    scene.share(folder_ids=[scar])  # narrowed
    assert case_doc(client, scene)["imageCount"] == 1


def test_a_folder_stored_before_counts_is_counted_once_and_then_kept(scene, client):
    mole = scene.folder("Mole")
    seed_ready(client, scene.patient_id, mole, 7, keep_count=False)
    scene.share()
    assert case_doc(client, scene)["imageCount"] == 7
    assert client.services.store.read(PATIENTS, scene.patient_id, mole)["readyImageCount"] == 7


def test_worklist_page_is_one_query_with_no_read_per_row(client):
    from tests.support.library_helpers import actor

    first = build_scene(client)
    for n in range(4):
        other = actor(client, f"patient-{n}", "patient", f"Patient {n}")
        ok(client.get("/api/me", token=other.token))
        folder = ok(client.post("/api/folders", token=other.token, json={"name": "Mole"}), 201)["id"]
        from tests.support.library_helpers import grant_share

        grant_share(client, other.token, first.clinic["id"], folder_ids=[folder])
    counting = CountingStore(client.services.store)
    client.services.store = counting
    rows = ok(client.get("/api/clinic/cases", token=first.doctor.token))["items"]
    assert len(rows) == 4 and all(r["folders"] == [{"id": r["folders"][0]["id"], "name": "Mole"}] for r in rows)
    assert counting.queries == 1 and counting.writes == 0
    assert counting.point_reads <= 2  # the principal's memberships, not the rows


def test_worklist_row_follows_the_patients_profile_and_folder_names(scene, client):
    mole = scene.folder("Mole")
    scene.share(folder_ids=[mole])
    ok(client.put("/api/me", token=scene.patient.token, json={"displayName": "Alice Renamed", "dateOfBirth": "1970-05-06"}))
    ok(client.patch(f"/api/folders/{mole}", token=scene.patient.token, json={"name": "Mole on back"}))
    (row,) = ok(client.get("/api/clinic/cases", token=scene.doctor.token))["items"]
    assert row["patient"]["displayName"] == "Alice Renamed" and row["patient"]["dateOfBirth"] == "1970-05-06"
    assert row["folders"] == [{"id": mole, "name": "Mole on back"}]


def test_worklist_still_lists_a_case_stored_before_rows_were_kept(scene, client):
    mole = scene.folder("Mole")
    scene.share(folder_ids=[mole])
    store = client.services.store
    case = case_doc(client, scene)
    case.pop("row")
    case.pop("imageCount")
    store.replace(CLINICS, case, if_match=case["_etag"])
    (row,) = ok(client.get("/api/clinic/cases", token=scene.doctor.token))["items"]
    assert row["patient"]["displayName"] == "Alice Example" and row["folders"] == [{"id": mole, "name": "Mole"}]
    assert ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))["imageCount"] == 0


def test_export_request_checks_the_named_photos_by_point_reads(scene, client):
    mole, private = scene.folder("Mole"), scene.folder("Private")
    ids = seed_ready(client, scene.patient_id, mole, 300)
    hidden = seed_ready(client, scene.patient_id, private, 1)
    scene.share(folder_ids=[mole])
    counting = CountingStore(client.services.store)
    client.services.store = counting
    reply = client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id(), "imageIds": ids[:2]})
    assert reply.status == 202, reply.text
    assert counting.documents_read < 20
    refused = client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id(), "imageIds": [ids[0], hidden[0]]})
    assert refused.status == 404


def test_comments_are_paged_and_never_cut_off(scene, client):
    mole = scene.folder("Mole")
    image = scene.photo(mole)
    scene.share(folder_ids=[mole])
    for n in range(205):
        client.services.clock.advance(seconds=1)
        ok(client.post(f"/api/images/{image}/comments", token=scene.doctor.token, json={"text": f"note {n}"}), 201)
    seen, token = [], None
    while True:
        query = f"?limit=200&continuationToken={token}" if token else "?limit=200"
        page = ok(client.get(f"/api/images/{image}/comments{query}", token=scene.patient.token))
        seen += [c["text"] for c in page["items"]]
        token = page["continuationToken"]
        if not token:
            break
    assert seen == [f"note {n}" for n in range(205)]
