"""The clinic's side: worklist, case view, photos, comments, reviewed and triage, and how a share bounds them."""

from __future__ import annotations

import pytest

from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.domain.common import iso
from shared_code.domain.conversation import OUTCOME_TEXT
from shared_code.ports import CLINICS, IMAGES
from shared_code.services import cases
from tests.support.library_helpers import (
    RacyStore,
    actor,
    build_scene,
    clinician_of,
    create_clinic,
    grant_share,
    ok,
    run_together,
    start_upload,
)


@pytest.fixture
def scene(client):
    return build_scene(client)


def worklist(client, token, query=""):
    return ok(client.get(f"/api/clinic/cases{query}", token=token))


# ----------------------------------------------------------------------------- worklist
def test_worklist_shows_the_shared_case_with_patient_summary_and_folders_in_scope(scene, client):
    ok(client.put("/api/me", token=scene.patient.token, json={"dateOfBirth": "1970-05-06", "nhsNumber": "9434765919"}))
    mole, private = scene.folder("Mole on back"), scene.folder("Not shared")
    share = scene.share(folder_ids=[mole], days=30)
    (item,) = worklist(client, scene.doctor.token)["items"]
    assert item["caseId"] == scene.case_id() and item["clinicId"] == scene.clinic["id"]
    assert item["patient"] == {"displayName": "Alice Example", "dateOfBirth": "1970-05-06", "nhsNumber": "9434765919"}
    assert item["folders"] == [{"id": mole, "name": "Mole on back"}]
    assert private not in str(item)
    assert item["shareExpiresAt"] == share["expiresAt"]
    assert item["triage"] is None and item["lastReviewedAt"] is None


def test_a_newly_shared_case_is_new_and_awaiting_triage(scene, client):
    scene.share()
    token = scene.doctor.token
    assert [c["caseId"] for c in worklist(client, token, "?filter=new")["items"]] == [scene.case_id()]
    assert [c["caseId"] for c in worklist(client, token, "?filter=awaiting-triage")["items"]] == [scene.case_id()]


def test_reviewed_case_leaves_the_new_filter_until_new_photos_arrive(scene, client):
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    token = scene.doctor.token
    reviewed = ok(client.post(f"/api/clinic/cases/{scene.case_id()}/reviewed", token=token))
    assert reviewed == {"caseId": scene.case_id(), "lastReviewedAt": "2026-11-27T10:00:00Z"}
    assert worklist(client, token, "?filter=new")["items"] == []
    assert len(worklist(client, token, "?filter=all")["items"]) == 1
    client.services.clock.advance(hours=1)
    scene.photo(folder)
    scene.photo(folder, seed=1)
    (item,) = worklist(client, token, "?filter=new")["items"]
    assert item["newImageCount"] == 2
    assert item["lastActivityAt"] == "2026-11-27T11:00:00Z"


def test_triage_takes_the_case_out_of_awaiting_triage(scene, client):
    scene.share()
    token = scene.doctor.token
    r = client.put(f"/api/clinic/cases/{scene.case_id()}/triage", token=token, json={"outcome": "list-for-excision", "note": " Book in "})
    triage = ok(r)
    assert triage == {
        "outcome": "list-for-excision",
        "note": "Book in",
        "patientMessage": None,
        "patientText": OUTCOME_TEXT["list-for-excision"],
        "reminder": None,
        "recordedAt": "2026-11-27T10:00:00Z",
        "recordedBy": "Dr Dana Scully",
    }
    assert worklist(client, token, "?filter=awaiting-triage")["items"] == []
    assert worklist(client, token)["items"][0]["triage"] == triage
    assert ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=token))["triage"] == triage


def test_triage_outcome_must_be_a_known_one(scene, client):
    scene.share()
    r = client.put(f"/api/clinic/cases/{scene.case_id()}/triage", token=scene.doctor.token, json={"outcome": "ignore-it"})
    assert r.status == 400
    assert r.json()["errors"][0]["pointer"] == "/outcome"


def test_unknown_worklist_filter_is_400(scene, client):
    assert client.get("/api/clinic/cases?filter=flagged", token=scene.doctor.token).status == 400


def test_worklist_pages_through_every_case_once_newest_activity_first(client):
    scene = build_scene(client)
    for n in range(5):
        patient = actor(client, f"patient-{n}", "patient", f"Patient {n}")
        grant_share(client, patient.token, scene.clinic["id"])
        client.services.clock.advance(minutes=1)
    seen, token, pages = [], None, 0
    while True:
        page = worklist(client, scene.doctor.token, "?limit=2" + (f"&continuationToken={token}" if token else ""))
        pages += 1
        assert len(page["items"]) <= 2
        seen += [(c["caseId"], c["lastActivityAt"]) for c in page["items"]]
        token = page["continuationToken"]
        if not token:
            break
    assert len(seen) == len({c for c, _ in seen}) == 5 and pages == 3
    assert [at for _, at in seen] == sorted((at for _, at in seen), reverse=True)


def test_worklist_of_a_clinician_in_two_clinics_covers_both(client):
    scene = build_scene(client)
    other_clinic = create_clinic(client, scene.admin, "Clinic Two")["id"]
    clinician_of(client, scene.admin, other_clinic, scene.doctor.sub, "Dr Dana Scully")
    bea = actor(client, "patient-b", "patient", "Bea")
    scene.share()
    grant_share(client, bea.token, other_clinic)
    token = client.token(scene.doctor.sub, "clinician", "Dr Dana Scully")
    clinics_seen = {c["clinicId"] for c in worklist(client, token)["items"]}
    assert clinics_seen == {scene.clinic["id"], other_clinic}


# ----------------------------------------------------------------------------- case view and photos
def test_case_shows_only_folders_in_scope_and_only_ready_photos(scene, client):
    mole, private = scene.folder("Mole", notes="Since spring"), scene.folder("Private")
    ready = scene.photo(mole, notes="front view")
    pending = start_upload(client, scene.patient.token, mole)
    hidden = scene.photo(private, seed=3)
    scene.share(folder_ids=[mole])
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    assert [f["id"] for f in case["folders"]] == [mole]
    assert case["folders"][0]["notes"] == "Since spring"
    assert [i["id"] for i in case["folders"][0]["images"]] == [ready]
    assert case["folders"][0]["images"][0]["notes"] == "front view"
    text = str(case)
    assert pending not in text and hidden not in text and private not in text


def test_clinician_views_a_shared_photo_in_every_size(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    scene.share(folder_ids=[folder])
    token = scene.doctor.token
    meta = ok(client.get(f"/api/images/{image}", token=token))
    assert meta["status"] == "ready" and meta["width"] == 480
    pid = scene.patient_id
    for size in ("thumbnail", "preview", "original"):
        r = client.get(f"/api/images/{image}/content?size={size}", token=token)
        assert r.status == 200 and r.content_type == "image/jpeg"
        assert r.body == client.services.blobs.blobs[(IMAGES, f"{pid}/{image}/{size}.jpg")][0]
        assert r.headers["Cache-Control"] == "no-store"
    assert client.get(f"/api/images/{image}/content?size=huge", token=token).status == 400
    listed = ok(client.get(f"/api/folders/{folder}/images", token=token))["items"]
    assert [i["id"] for i in listed] == [image]


def test_clinician_never_sees_a_pending_photo_even_in_a_shared_folder(scene, client):
    folder = scene.folder("Mole")
    pending = start_upload(client, scene.patient.token, folder)
    scene.share(folder_ids=[folder])
    assert client.get(f"/api/images/{pending}", token=scene.doctor.token).status == 404
    assert client.get(f"/api/images/{pending}/content", token=scene.doctor.token).status == 404
    assert ok(client.get(f"/api/folders/{folder}/images", token=scene.doctor.token))["items"] == []
    # the owner sees it pending, and is told why there is nothing to view yet
    assert ok(client.get(f"/api/images/{pending}", token=scene.patient.token))["status"] == "pending"
    assert client.get(f"/api/images/{pending}/content", token=scene.patient.token).status == 422


def test_clinicians_cannot_change_or_delete_the_patients_photos(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    scene.share(folder_ids=[folder])
    token = scene.doctor.token
    assert client.patch(f"/api/images/{image}", token=token, json={"notes": "x"}).status == 404
    assert client.delete(f"/api/images/{image}", token=token).status == 404
    assert client.patch(f"/api/folders/{folder}", token=token, json={"name": "x"}).status == 404
    assert client.post(f"/api/folders/{folder}/uploads", token=token, json={"contentType": "image/jpeg", "sizeBytes": 10}).status == 404
    assert ok(client.get(f"/api/images/{image}", token=scene.patient.token))["notes"] is None


# ----------------------------------------------------------------------------- comments
def test_clinic_comments_are_read_by_the_patient_and_only_by_the_clinic_that_wrote_them(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    other_clinic = create_clinic(client, scene.admin, "Second Opinion Clinic")["id"]
    other_doc = clinician_of(client, scene.admin, other_clinic, "doc-2", "Dr Two")
    scene.share(folder_ids=[folder])
    scene.share(other_clinic, folder_ids=[folder])
    first = ok(client.post(f"/api/images/{image}/comments", token=scene.doctor.token, json={"text": "  Looks benign  "}), 201)
    assert first["text"] == "Looks benign"
    assert first["author"] == {"kind": "clinician", "name": "Dr Dana Scully", "clinicName": "Leeds Dermatology"}
    client.services.clock.advance(minutes=1)
    ok(client.post(f"/api/images/{image}/comments", token=other_doc.token, json={"text": "Agree, review in 6 months"}), 201)
    ok(client.post(f"/api/folders/{folder}/comments", token=scene.doctor.token, json={"text": "Folder note"}), 201)

    patient_view = ok(client.get(f"/api/images/{image}/comments", token=scene.patient.token))["items"]
    assert [c["text"] for c in patient_view] == ["Looks benign", "Agree, review in 6 months"]
    first_clinic = ok(client.get(f"/api/images/{image}/comments", token=scene.doctor.token))["items"]
    assert [c["text"] for c in first_clinic] == ["Looks benign"]
    second_clinic = ok(client.get(f"/api/images/{image}/comments", token=other_doc.token))["items"]
    assert [c["text"] for c in second_clinic] == ["Agree, review in 6 months"]
    folder_comments = ok(client.get(f"/api/folders/{folder}/comments", token=scene.patient.token))["items"]
    assert [(c["targetType"], c["text"]) for c in folder_comments] == [("folder", "Folder note")]
    assert ok(client.get(f"/api/folders/{folder}/comments", token=other_doc.token))["items"] == []


def test_blank_comment_is_refused(scene, client):
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    assert client.post(f"/api/folders/{folder}/comments", token=scene.doctor.token, json={"text": "   "}).status == 422
    assert client.post(f"/api/folders/{folder}/comments", token=scene.doctor.token, json={"text": ""}).status == 400


def test_comments_stay_with_the_patient_after_the_share_ends(scene, client):
    folder = scene.folder("Mole")
    share = scene.share(folder_ids=[folder])
    ok(client.post(f"/api/folders/{folder}/comments", token=scene.doctor.token, json={"text": "Review in 3 months"}), 201)
    ok(client.delete(f"/api/shares/{share['id']}", token=scene.patient.token))
    assert client.get(f"/api/folders/{folder}/comments", token=scene.doctor.token).status == 404
    assert client.post(f"/api/folders/{folder}/comments", token=scene.doctor.token, json={"text": "late"}).status == 404
    assert [c["text"] for c in ok(client.get(f"/api/folders/{folder}/comments", token=scene.patient.token))["items"]] == ["Review in 3 months"]


# ----------------------------------------------------------------------------- the share's bounds
@pytest.mark.parametrize("ending", ["revoked", "expired"])
def test_ended_share_hides_every_id_of_that_patient_from_the_next_request(scene, client, ending):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    share = scene.share(folder_ids=[folder], days=2)
    token = scene.doctor.token
    case = scene.case_id()
    reads = [
        ("GET", f"/api/images/{image}", None),
        ("GET", f"/api/images/{image}/content?size=preview", None),
        ("GET", f"/api/images/{image}/comments", None),
        ("POST", f"/api/images/{image}/comments", {"text": "x"}),
        ("GET", f"/api/folders/{folder}", None),
        ("GET", f"/api/folders/{folder}/images", None),
        ("GET", f"/api/folders/{folder}/comments", None),
        ("POST", f"/api/folders/{folder}/comments", {"text": "x"}),
        ("GET", f"/api/clinic/cases/{case}", None),
        ("POST", f"/api/clinic/cases/{case}/reviewed", None),
        ("PUT", f"/api/clinic/cases/{case}/triage", {"outcome": "discharge"}),
    ]
    before = [client.request(m, u, json=b, token=token).status for m, u, b in reads]
    assert all(s in (200, 201) for s in before), before
    if ending == "revoked":
        ok(client.delete(f"/api/shares/{share['id']}", token=scene.patient.token))
    else:
        client.services.clock.advance(days=2)
    after = {u: client.request(m, u, json=b, token=token) for m, u, b in reads}
    assert {u: r.status for u, r in after.items()} == {u: 404 for _, u, _ in reads}
    assert all(image not in r.body.decode() and folder not in r.body.decode() for r in after.values())
    rows = worklist(client, token)["items"]
    if ending == "revoked":  # kept 30 days as "sharing ended", without folders or photos
        (row,) = rows
        assert row["status"] == "sharing-ended" and row["folders"] == [] and row["newImageCount"] == 0
        assert image not in str(row) and folder not in str(row)
    else:
        assert rows == []


def test_removing_a_clinician_from_the_clinic_ends_their_access_at_once(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    scene.share(folder_ids=[folder])
    assert client.get(f"/api/images/{image}", token=scene.doctor.token).status == 200
    assert client.delete(f"/api/manage/clinics/{scene.clinic['id']}/members/{scene.doctor.sub}", token=scene.admin).status == 204
    assert client.get(f"/api/images/{image}", token=scene.doctor.token).status == 404
    assert worklist(client, scene.doctor.token)["items"] == []


def test_admin_gets_404_on_clinic_cases_and_patient_photos(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    scene.share(folder_ids=[folder])
    for url in ("/api/clinic/cases", f"/api/clinic/cases/{scene.case_id()}", f"/api/images/{image}", f"/api/folders/{folder}/images"):
        r = client.get(url, token=scene.admin)
        assert r.status == 404, url
        assert image not in r.body.decode() and scene.patient_id not in r.body.decode()


# ----------------------------------------------------------------------------- concurrency
@pytest.fixture(params=["fake", "sqlite"])
def racy_client(request, client, tmp_path):
    """A client whose store makes readers interleave (fake) or a real SQLite file store."""
    if request.param == "fake":
        client.services.store = RacyStore()
    else:
        store = SqliteMetadataStore(str(tmp_path / "racy.db"))
        store.ensure_containers()
        client.services.store = store
        request.addfinalizer(store.close)
    return client


def test_concurrent_triage_new_photos_and_revoke_lose_no_update(racy_client):
    client = racy_client
    scene = build_scene(client)
    scene.share()
    store = client.services.store
    case_id = scene.case_id()
    share_id = ok(client.get("/api/shares", token=scene.patient.token))["items"][0]["id"]
    if isinstance(store, RacyStore):
        store.pause = 0.003
    results = run_together(
        lambda: client.put(f"/api/clinic/cases/{case_id}/triage", token=scene.doctor.token, json={"outcome": "routine-follow-up"}),
        lambda: cases.note_new_image(client.services, scene.clinic["id"], scene.patient_id),
        lambda: cases.note_new_image(client.services, scene.clinic["id"], scene.patient_id),
        lambda: client.delete(f"/api/shares/{share_id}", token=scene.patient.token),
    )
    if isinstance(store, RacyStore):
        store.pause = 0
        assert store.stale_writes > 0  # the race really happened
    triage, _, _, revoke = results
    assert revoke.status == 200 and revoke.json()["state"] == "revoked"
    assert triage.status in (200, 404), triage.body  # 404 only if the revoke landed first
    case = store.read(CLINICS, scene.clinic["id"], case_id)
    assert case["newImageCount"] == 2
    assert case["sharingEndedAt"] == iso(client.services.clock.now())  # ended by the patient: kept 30 days, marked
    if triage.status == 200:
        assert case["triage"]["outcome"] == "routine-follow-up" and case["awaitingTriage"] is False


def test_concurrent_triage_by_two_clinicians_keeps_one_whole_outcome(racy_client):
    client = racy_client
    scene = build_scene(client)
    scene.share()
    second = clinician_of(client, scene.admin, scene.clinic["id"], "doc-2", "Dr Two")
    store = client.services.store
    if isinstance(store, RacyStore):
        store.pause = 0.003
    url = f"/api/clinic/cases/{scene.case_id()}/triage"
    a, b = run_together(
        lambda: client.put(url, token=scene.doctor.token, json={"outcome": "list-for-excision", "note": "A"}),
        lambda: client.put(url, token=second.token, json={"outcome": "discharge", "note": "B"}),
    )
    if isinstance(store, RacyStore):
        store.pause = 0
    assert (a.status, b.status) == (200, 200)
    final = store.read(CLINICS, scene.clinic["id"], scene.case_id())["triage"]
    assert (final["outcome"], final["note"], final["recordedBy"]) in {("list-for-excision", "A", "Dr Dana Scully"), ("discharge", "B", "Dr Two")}
