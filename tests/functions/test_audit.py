"""The patient's access log: every clinician read and action, and every share event, in plain terms."""

from __future__ import annotations

import pytest

from shared_code.ports import AUDIT
from tests.support.library_helpers import actor, build_scene, ok, start_upload

AUDIT_FIELDS = {"id", "patientId", "type", "at", "actorKind", "actorId", "clinicId", "action", "targetType", "targetId", "outcome", "_etag"}


@pytest.fixture
def scene(client):
    return build_scene(client)


def trail(client, token, query=""):
    return ok(client.get(f"/api/audit{query}", token=token))["items"]


def test_every_clinician_read_and_action_is_recorded_newest_first(scene, client):
    folder = scene.folder("Mole", notes="Itchy at night")
    image = scene.photo(folder, notes="Close-up")
    scene.share(folder_ids=[folder])
    token, case = scene.doctor.token, scene.case_id()
    steps = [
        ("GET", f"/api/clinic/cases/{case}", None, "viewed-case", ("case", case)),
        ("GET", f"/api/folders/{folder}", None, "viewed-folder", ("folder", folder)),
        ("GET", f"/api/images/{image}", None, "viewed-image", ("image", image)),
        ("GET", f"/api/images/{image}/content?size=original", None, "viewed-image-content", ("image", image)),
        ("POST", f"/api/images/{image}/comments", {"text": "Regular borders"}, "commented", ("image", image)),
        ("PUT", f"/api/clinic/cases/{case}/triage", {"outcome": "routine-follow-up"}, "triaged", ("case", case)),
        ("POST", f"/api/clinic/cases/{case}/reviewed", None, "reviewed", ("case", case)),
    ]
    for method, url, body, _, _ in steps:
        client.services.clock.advance(minutes=1)
        assert client.request(method, url, json=body, token=token).status in (200, 201), url
    items = trail(client, scene.patient.token)
    clinician_items = [i for i in items if i["actor"]["kind"] == "clinician"]
    assert [(i["action"], (i["target"]["type"], i["target"]["id"])) for i in clinician_items] == [(s[3], s[4]) for s in reversed(steps)]
    for item in clinician_items:
        assert item["actor"] == {"kind": "clinician", "name": "Dr Dana Scully"}
        assert item["clinic"] == {"id": scene.clinic["id"], "name": "Leeds Dermatology"}
        assert item["outcome"] == "success"
    summaries = {i["action"]: i["summary"] for i in clinician_items}
    assert summaries["viewed-image-content"] == "Dr Dana Scully (Leeds Dermatology) viewed a photo"
    assert summaries["triaged"] == "Dr Dana Scully (Leeds Dermatology) recorded a triage outcome"
    assert summaries["viewed-case"] == "Dr Dana Scully (Leeds Dermatology) opened your case"


def test_the_trail_records_what_the_clinic_opened_not_each_worklist_listing(scene, client):
    folder = scene.folder("Mole")
    scene.photo(folder)
    scene.share(folder_ids=[folder])
    for _ in range(3):
        ok(client.get("/api/clinic/cases", token=scene.doctor.token))
    assert [i for i in trail(client, scene.patient.token) if i["actor"]["kind"] == "clinician"] == []
    ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    opened = [i["action"] for i in trail(client, scene.patient.token) if i["actor"]["kind"] == "clinician"]
    assert opened == ["viewed-case"]


def test_share_granted_revoked_and_expired_are_recorded_in_plain_words(scene, client):
    share = scene.share()
    client.services.clock.advance(minutes=1)
    ok(client.delete(f"/api/shares/{share['id']}", token=scene.patient.token))
    client.services.clock.advance(minutes=1)
    scene.share(days=1)
    client.services.clock.advance(days=2)
    ok(client.get("/api/shares", token=scene.patient.token))  # the patient's app notices the expiry
    items = trail(client, scene.patient.token)
    assert [(i["action"], i["actor"]["kind"], i["summary"]) for i in items] == [
        ("share-expired", "system", "Your share ended with Leeds Dermatology"),
        ("share-granted", "patient", "You shared photos with Leeds Dermatology"),
        ("share-revoked", "patient", "You stopped sharing with Leeds Dermatology"),
        ("share-granted", "patient", "You shared photos with Leeds Dermatology"),
    ]
    assert items[0]["actor"]["name"] == "SkinVault" and items[-1]["actor"]["name"] == "You"
    assert items[-1]["target"] == {"type": "share", "id": share["id"]}


def test_an_expiry_is_recorded_once_however_often_it_is_noticed(scene, client):
    scene.share(days=1)
    client.services.clock.advance(days=1, minutes=1)
    for _ in range(3):
        ok(client.get("/api/shares", token=scene.patient.token))
    assert [i["action"] for i in trail(client, scene.patient.token)].count("share-expired") == 1


def test_an_expired_share_shows_in_the_trail_without_opening_the_share_list(scene, client):
    scene.share(days=1)
    client.services.clock.advance(days=2)
    assert "share-expired" in [i["action"] for i in trail(client, scene.patient.token)]


def test_the_trail_pages_newest_first_without_repeats(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    scene.share(folder_ids=[folder])
    for _ in range(6):
        client.services.clock.advance(seconds=10)
        ok(client.get(f"/api/images/{image}", token=scene.doctor.token))
    seen, token = [], None
    while True:
        page = ok(client.get("/api/audit?limit=3" + (f"&continuationToken={token}" if token else ""), token=scene.patient.token))
        assert len(page["items"]) <= 3
        seen += page["items"]
        token = page["continuationToken"]
        if not token:
            break
    assert len(seen) == len({i["id"] for i in seen}) == 7  # six views and the grant
    assert [i["at"] for i in seen] == sorted((i["at"] for i in seen), reverse=True)
    assert client.get("/api/audit?continuationToken=not-a-token", token=scene.patient.token).status == 400


def test_audit_records_hold_ids_never_names_notes_or_image_data(scene, client):
    folder = scene.folder("Mole on shoulder", notes="Grew since May", condition="Melanoma?")
    image = scene.photo(folder, notes="Taken in daylight")
    scene.share(folder_ids=[folder])
    assert client.get(f"/api/images/{image}/content", token=scene.doctor.token).status == 200
    ok(client.post(f"/api/images/{image}/comments", token=scene.doctor.token, json={"text": "Asymmetric pigment"}), 201)
    ok(client.put(f"/api/clinic/cases/{scene.case_id()}/triage", token=scene.doctor.token, json={"outcome": "discharge", "note": "No concern"}))
    records = client.services.store.query(AUDIT, scene.patient_id, limit=200).items
    assert len(records) == 4
    for record in records:
        assert set(record) == AUDIT_FIELDS
        text = str(record)
        for secret in ("Alice", "Dana", "Scully", "Leeds", "Mole on shoulder", "Grew since May", "Melanoma", "daylight", "Asymmetric", "No concern"):
            assert secret not in text


def test_denied_attempts_are_not_recorded_as_views(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    share = scene.share(folder_ids=[folder])
    ok(client.delete(f"/api/shares/{share['id']}", token=scene.patient.token))
    before = client.services.store.count(AUDIT, scene.patient_id)
    for url in (f"/api/images/{image}", f"/api/images/{image}/content", f"/api/folders/{folder}", f"/api/clinic/cases/{scene.case_id()}"):
        assert client.get(url, token=scene.doctor.token).status == 404
    assert client.services.store.count(AUDIT, scene.patient_id) == before


def test_refused_requests_of_an_active_clinic_are_not_recorded(scene, client):
    folder = scene.folder("Mole")
    pending = start_upload(client, scene.patient.token, folder)
    scene.share(folder_ids=[folder])
    before = client.services.store.count(AUDIT, scene.patient_id)
    assert client.get(f"/api/images/{pending}", token=scene.doctor.token).status == 404  # still being processed
    assert client.get(f"/api/images/{pending}/content", token=scene.doctor.token).status == 404
    assert client.post(f"/api/folders/{folder}/comments", token=scene.doctor.token, json={"text": "   "}).status == 422
    assert client.services.store.count(AUDIT, scene.patient_id) == before


def test_each_patient_sees_only_their_own_trail(scene, client):
    scene.share()
    ok(client.get("/api/clinic/cases", token=scene.doctor.token))
    other = actor(client, "patient-b", "patient", "Bea")
    assert trail(client, other.token) == []
    assert client.get("/api/audit", token=scene.doctor.token).status == 404
    assert client.get("/api/audit", token=scene.admin).status == 404
    assert client.get("/api/audit").status == 401


def test_the_trail_outlives_the_erasure_of_the_account(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    scene.share(folder_ids=[folder])
    ok(client.get(f"/api/images/{image}", token=scene.doctor.token))
    before = client.services.store.query(AUDIT, scene.patient_id, limit=200).items
    assert client.delete("/api/me", token=scene.patient.token).status == 204
    after = client.services.store.query(AUDIT, scene.patient_id, limit=200).items
    assert {r["id"] for r in before} < {r["id"] for r in after}
    assert "share-revoked" in [r["action"] for r in after]  # erasure ended the share, and says so


def test_trail_names_the_clinician_even_after_they_leave_the_clinic(scene, client):
    scene.share()
    ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    members_url = f"/api/manage/clinics/{scene.clinic['id']}/members"
    assert client.delete(f"{members_url}/{scene.doctor.sub}", token=scene.admin).status == 204
    assert ok(client.get(members_url, token=scene.admin))["items"] == []
    assert client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token).status == 404
    (view,) = [i for i in trail(client, scene.patient.token) if i["action"] == "viewed-case"]
    assert view["actor"]["name"] == "Dr Dana Scully"
    assert view["clinic"]["name"] == "Leeds Dermatology"
    # re-adding the clinician restores access
    ok(client.post(members_url, token=scene.admin, json={"sub": scene.doctor.sub, "name": "Dr Dana Scully"}), 201)
    assert client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token).status == 200


def test_upload_of_a_photo_by_the_patient_is_not_a_clinician_access(scene, client):
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    start_upload(client, scene.patient.token, folder)
    scene.photo(folder)
    assert [i["action"] for i in trail(client, scene.patient.token)] == ["share-granted"]
