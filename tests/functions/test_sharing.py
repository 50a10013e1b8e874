"""Finding a clinic, reading the consent text, granting, listing, replacing and revoking shares."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared_code.domain.common import iso
from shared_code.ports import AUDIT, PATIENTS
from shared_code.services import consent
from tests.support.library_helpers import RacyStore, actor, build_scene, create_clinic, create_folder, ok, run_together, share_body


@pytest.fixture
def scene(client):
    return build_scene(client)


def post_share(scene, **changes):
    body = share_body(scene.client, scene.patient.token, scene.clinic["id"], folder_ids=changes.pop("folder_ids", None))
    body.update(changes)
    return scene.client.post("/api/shares", token=scene.patient.token, json=body)


def in_days(scene, days: float) -> str:
    return iso(scene.client.services.clock.now() + timedelta(days=days))


# ----------------------------------------------------------------------------- finding a clinic
def test_clinic_code_finds_the_clinic_with_its_organisation(scene, client):
    code = scene.clinic["shareCode"]
    r = client.get(f"/api/clinics?code={code}", token=scene.patient.token)
    assert ok(r) == {"id": scene.clinic["id"], "name": "Leeds Dermatology", "organisation": {"odsCode": "RR8"}}


def test_clinic_code_is_accepted_in_lower_case_and_without_the_dash(scene, client):
    typed = scene.clinic["shareCode"].replace("-", "").lower()
    assert ok(client.get(f"/api/clinics?code={typed}", token=scene.patient.token))["id"] == scene.clinic["id"]


def test_unknown_clinic_code_is_404_and_a_missing_code_is_400(scene, client):
    r = client.get("/api/clinics?code=ZZZZ-ZZZZ", token=scene.patient.token)
    assert r.status == 404 and "code" in r.json()["detail"]
    assert client.get("/api/clinics", token=scene.patient.token).status == 400


def test_repeated_wrong_clinic_codes_from_one_patient_are_rate_limited(scene, client):
    token = scene.patient.token
    statuses = [client.get(f"/api/clinics?code=WRNG-{n:04d}", token=token).status for n in range(10)]
    assert statuses == [404] * 10
    limited = client.get(f"/api/clinics?code={scene.clinic['shareCode']}", token=token)
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) > 0
    # another patient is not affected
    other = actor(client, "patient-b", "patient", "Bea")
    assert client.get(f"/api/clinics?code={scene.clinic['shareCode']}", token=other.token).status == 200
    # and the limit lifts after the hour
    client.services.clock.advance(hours=1)
    assert client.get(f"/api/clinics?code={scene.clinic['shareCode']}", token=token).status == 200


def test_clinic_lookup_is_for_patients_only(scene, client):
    assert client.get(f"/api/clinics?code={scene.clinic['shareCode']}", token=scene.doctor.token).status == 404
    assert client.get(f"/api/clinics?code={scene.clinic['shareCode']}").status == 401


# ----------------------------------------------------------------------------- consent text
def test_consent_text_names_the_clinic_and_carries_the_current_version(scene, client):
    text = ok(client.get(f"/api/consent-text?clinicId={scene.clinic['id']}", token=scene.patient.token))
    assert text["version"] == consent.current_version()
    assert text["clinicId"] == scene.clinic["id"]
    assert "Leeds Dermatology" in text["title"]
    assert any("RR8" in p for p in text["paragraphs"])
    assert any("Stop sharing" in p for p in text["paragraphs"])
    assert text["textHash"].startswith("sha256:")


def test_consent_text_for_an_unknown_clinic_is_404_and_needs_a_clinic(scene, client):
    assert client.get("/api/consent-text?clinicId=cln-nope", token=scene.patient.token).status == 404
    assert client.get("/api/consent-text", token=scene.patient.token).status == 400


# ----------------------------------------------------------------------------- granting
def test_share_records_who_consented_when_to_which_text_version_and_its_hash(scene, client):
    folder = scene.folder("Mole")
    text = ok(client.get(f"/api/consent-text?clinicId={scene.clinic['id']}", token=scene.patient.token))
    r = post_share(scene, folder_ids=[folder], purposes=["direct-care", "teaching"])
    share = ok(r, 201)
    now = iso(client.services.clock.now())
    assert share["state"] == "active" and share["clinicName"] == "Leeds Dermatology"
    assert share["folderIds"] == [folder] and share["allFolders"] is False
    assert share["purposes"] == ["direct-care", "teaching"]
    assert share["grantedAt"] == now
    assert share["consent"] == {"textVersion": text["version"], "textHash": text["textHash"], "acceptedAt": now, "acceptedBy": scene.patient_id}
    stored = client.services.store.read(PATIENTS, scene.patient_id, share["id"])
    assert stored["consent"]["textHash"] == text["textHash"]


@pytest.mark.parametrize(
    ("purposes", "reason"),
    [
        (["teaching"], "direct-care"),
        (["research", "teaching"], "direct-care"),
        ([], "direct-care"),
        (["direct-care", "marketing"], "purposes can only be"),
    ],
    ids=["teaching-only", "no-direct-care", "none", "unknown-purpose"],
)
def test_share_purposes_must_include_direct_care_and_only_known_purposes_422(scene, purposes, reason):
    r = post_share(scene, purposes=purposes, allFolders=True)
    assert r.status == 422, r.body
    assert reason in r.json()["detail"]


@pytest.mark.parametrize(
    ("days", "allowed"),
    [(-1, False), (0.5, False), (1, True), (365, True), (3653, True), (3654, False)],
    ids=["past", "half-a-day", "one-day", "one-year", "ten-years", "over-ten-years"],
)
def test_share_expiry_must_be_between_one_day_and_ten_years_ahead(scene, days, allowed):
    r = post_share(scene, allFolders=True, expiresAt=in_days(scene, days))
    if allowed:
        assert r.status == 201, r.body
    else:
        assert r.status == 422
        assert "day" in r.json()["detail"] or "ten years" in r.json()["detail"]


def test_share_expiry_needs_a_time_zone(scene):
    r = post_share(scene, allFolders=True, expiresAt="2027-06-01T00:00:00")
    assert r.status == 422 and "time zone" in r.json()["detail"]


def test_a_patient_can_only_share_their_own_folders(scene, client):
    other = actor(client, "patient-b", "patient", "Bea Other")
    theirs = create_folder(client, other.token, "Bea's rash")["id"]
    r = post_share(scene, folder_ids=[theirs])
    assert r.status == 422 and "own folders" in r.json()["detail"]
    assert theirs not in r.body.decode()
    r = post_share(scene, folder_ids=["fld-does-not-exist"])
    assert r.status == 422 and "own folders" in r.json()["detail"]
    assert client.services.store.query(PATIENTS, scene.patient_id, where={"type": "share"}).items == []


def test_a_share_names_either_some_folders_or_all_of_them(scene):
    folder = scene.folder("Mole")
    assert post_share(scene, folder_ids=[folder], allFolders=True).status == 422
    assert post_share(scene, allFolders=False).status == 422


def test_consent_must_be_accepted_and_of_the_current_version(scene):
    r = post_share(scene, allFolders=True, consent={"textVersion": consent.current_version(), "accepted": False})
    assert r.status == 422 and "accept" in r.json()["detail"]
    r = post_share(scene, allFolders=True, consent={"textVersion": "2020-01-01", "accepted": True})
    assert r.status == 422 and "changed" in r.json()["detail"]


def test_sharing_with_an_unknown_clinic_is_404(scene):
    assert post_share(scene, allFolders=True, clinicId="cln-unknown").status == 404


def test_granting_queues_a_notification_with_ids_only_and_opens_a_case(scene, client):
    share = scene.share(folder_ids=[scene.folder("Mole", notes="private")])
    (message,) = client.services.queue.take("notifications")
    assert message == {"kind": "share-granted", "clinicId": scene.clinic["id"], "shareId": share["id"], "caseId": scene.case_id()}
    cases = ok(client.get("/api/clinic/cases", token=scene.doctor.token))["items"]
    assert [c["caseId"] for c in cases] == [scene.case_id()]


# ----------------------------------------------------------------------------- listing, expiry, revoking
def test_shares_are_listed_with_their_state_active_expired_or_revoked(scene, client):
    admin = scene.admin
    clinic_b = create_clinic(client, admin, "Clinic B")["id"]
    clinic_c = create_clinic(client, admin, "Clinic C")["id"]
    folder = scene.folder("Mole")
    active = scene.share(folder_ids=[folder], days=30)["id"]
    client.services.clock.advance(minutes=1)
    expiring = scene.share(clinic_b, folder_ids=[folder], days=1)["id"]
    client.services.clock.advance(minutes=1)
    revoked = scene.share(clinic_c)["id"]
    ok(client.delete(f"/api/shares/{revoked}", token=scene.patient.token))
    client.services.clock.advance(days=2)
    listed = ok(client.get("/api/shares", token=scene.patient.token))["items"]
    states = {s["id"]: s["state"] for s in listed}
    assert states == {active: "active", expiring: "expired", revoked: "revoked"}
    names = {s["id"]: s["clinicName"] for s in listed}
    assert names == {active: "Leeds Dermatology", expiring: "Clinic B", revoked: "Clinic C"}
    assert [s["id"] for s in listed] == [revoked, expiring, active]  # newest first


def test_an_expired_share_is_listed_without_the_internal_expiry_mark(scene, client):
    expiring = scene.share(folder_ids=[scene.folder("Mole")], days=1)["id"]
    client.services.clock.advance(days=2)
    ok(client.get("/api/shares", token=scene.patient.token))  # the first look notes the expiry
    assert client.services.store.read(PATIENTS, scene.patient_id, expiring)["expiryAudited"] is True
    (listed,) = ok(client.get("/api/shares", token=scene.patient.token))["items"]
    assert listed["state"] == "expired" and "expiryAudited" not in listed


def test_share_list_pages_with_a_continuation_token(scene, client):
    for n in range(3):
        clinic = create_clinic(client, scene.admin, f"Clinic {n}")["id"]
        scene.share(clinic)
        client.services.clock.advance(minutes=1)
    seen, token = [], None
    while True:
        url = "/api/shares?limit=2" + (f"&continuationToken={token}" if token else "")
        page = ok(client.get(url, token=scene.patient.token))
        assert len(page["items"]) <= 2
        seen += [s["id"] for s in page["items"]]
        token = page["continuationToken"]
        if not token:
            break
    assert len(seen) == len(set(seen)) == 3


def test_revoking_takes_effect_at_once_for_the_clinic(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    share = scene.share(folder_ids=[folder])
    doctor = scene.doctor.token
    assert client.get(f"/api/images/{image}", token=doctor).status == 200
    revoked = ok(client.delete(f"/api/shares/{share['id']}", token=scene.patient.token))
    assert revoked["state"] == "revoked" and revoked["revokedAt"] == iso(client.services.clock.now())
    assert revoked["endReason"] == "revoked"
    for url in (f"/api/images/{image}", f"/api/images/{image}/content", f"/api/folders/{folder}", f"/api/clinic/cases/{scene.case_id()}"):
        assert client.get(url, token=doctor).status == 404, url
    (row,) = ok(client.get("/api/clinic/cases", token=doctor))["items"]  # kept 30 days, marked, nothing shared
    assert row["status"] == "sharing-ended" and row["sharingEndedAt"] == revoked["revokedAt"] and row["folders"] == []


def test_revoking_twice_changes_nothing_and_someone_elses_share_is_404(scene, client):
    share = scene.share()
    first = ok(client.delete(f"/api/shares/{share['id']}", token=scene.patient.token))
    client.services.clock.advance(hours=1)
    second = ok(client.delete(f"/api/shares/{share['id']}", token=scene.patient.token))
    assert second["revokedAt"] == first["revokedAt"]
    revocations = [a for a in client.services.store.query(AUDIT, scene.patient_id, limit=200).items if a["action"] == "share-revoked"]
    assert len(revocations) == 1
    other = actor(client, "patient-b", "patient", "Bea")
    assert client.delete(f"/api/shares/{share['id']}", token=other.token).status == 404
    assert client.delete("/api/shares/shr-unknown", token=scene.patient.token).status == 404


def test_a_second_share_with_the_same_clinic_replaces_the_first(scene, client):
    mole, rash = scene.folder("Mole"), scene.folder("Rash")
    mole_photo, rash_photo = scene.photo(mole), scene.photo(rash, seed=1)
    first = scene.share(folder_ids=[mole])
    client.services.clock.advance(minutes=5)
    second = scene.share(folder_ids=[rash], purposes=("direct-care", "research"))
    listed = {s["id"]: s for s in ok(client.get("/api/shares", token=scene.patient.token))["items"]}
    assert listed[first["id"]]["state"] == "revoked" and listed[first["id"]]["endReason"] == "replaced"
    assert listed[second["id"]]["state"] == "active"
    assert [s["id"] for s in listed.values() if s["state"] == "active"] == [second["id"]]
    doctor = scene.doctor.token
    assert client.get(f"/api/images/{mole_photo}", token=doctor).status == 404
    assert client.get(f"/api/images/{rash_photo}", token=doctor).status == 200
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=doctor))
    assert case["share"]["id"] == second["id"] and case["share"]["purposes"] == ["direct-care", "research"]
    assert [f["id"] for f in case["folders"]] == [rash]


def test_concurrent_shares_with_one_clinic_leave_exactly_one_active(client):
    client.services.store = store = RacyStore()
    scene = build_scene(client)
    bodies = [share_body(client, scene.patient.token, scene.clinic["id"], folder_ids=None) for _ in range(4)]
    store.pause = 0.005  # every grant reads the patient's shares before any of them writes
    replies = run_together(*[lambda b=b: client.post("/api/shares", token=scene.patient.token, json=b) for b in bodies])
    store.pause = 0
    assert [r.status for r in replies] == [201] * 4
    listed = ok(client.get("/api/shares", token=scene.patient.token))["items"]
    assert len(listed) == 4
    assert [s["state"] for s in listed].count("active") == 1
    assert {s["endReason"] for s in listed if s["state"] != "active"} == {"replaced"}


def test_all_folders_share_covers_folders_created_later(scene, client):
    scene.share()
    later = scene.folder("Added after sharing")
    photo = scene.photo(later)
    assert ok(client.get(f"/api/images/{photo}", token=scene.doctor.token))["id"] == photo
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    assert [f["id"] for f in case["folders"]] == [later]


def test_expired_share_hides_everything_from_the_clinic_from_the_next_request(scene, client):
    folder = scene.folder("Mole")
    image = scene.photo(folder)
    scene.share(folder_ids=[folder], days=1)
    doctor = scene.doctor.token
    assert client.get(f"/api/images/{image}/content?size=thumbnail", token=doctor).status == 200
    client.services.clock.advance(days=1)  # expiresAt is now: expired
    for url in (f"/api/images/{image}", f"/api/images/{image}/content?size=thumbnail", f"/api/folders/{folder}/images"):
        assert client.get(url, token=doctor).status == 404, url
    assert client.get(f"/api/clinic/cases/{scene.case_id()}", token=doctor).status == 404
    assert ok(client.get("/api/clinic/cases", token=doctor))["items"] == []


def test_shares_need_a_patient(scene, client):
    assert client.get("/api/shares", token=scene.doctor.token).status == 404
    assert client.get("/api/shares").status == 401
