"""Clinical depth over HTTP: triage per folder (append-only, coded, urgent filter and order, FDS
clock), the lesion-history questionnaire, and the intimate-site and under-18 safeguards."""

from __future__ import annotations

import json

import pytest

from shared_code.ports import AUDIT
from tests.support.library_helpers import actor, build_scene, grant_share, ok, share_body

ANSWERS = {
    "duration": "1-6-months",
    "changedSize": "yes",
    "changedShape": "no",
    "changedColour": "yes",
    "bleeding": "no",
    "itching": "not-sure",
    "personalHistory": "no",
    "familyHistory": "yes",
    "skinType": "II",
}
SECRET_NOTE = "Internal: MDT thinks melanoma"


@pytest.fixture
def scene(client):
    return build_scene(client)


def triage(client, scene, folder_id, body, status=201):
    return ok(client.post(f"/api/clinic/cases/{scene.case_id()}/folders/{folder_id}/triage", token=scene.doctor.token, json=body), status)


def test_each_folder_keeps_its_own_append_only_history_and_the_case_shows_the_most_urgent(scene, client):
    mole, rash = scene.folder("Mole", bodySite="left-forearm"), scene.folder("Rash", bodySite="scalp")
    scene.photo(mole)
    scene.share(folder_ids=[mole, rash])
    first = triage(client, scene, mole, {"outcome": "routine-follow-up", "note": "first look"})
    client.services.clock.advance(hours=1)
    listed = triage(
        client, scene, mole, {"outcome": "list-for-excision", "note": SECRET_NOTE, "excision": {"procedure": "shave", "priority": "routine"}}
    )
    triage(client, scene, rash, {"outcome": "discharge"})
    history = ok(client.get(f"/api/clinic/cases/{scene.case_id()}/folders/{mole}/triage", token=scene.doctor.token))["items"]
    assert [h["id"] for h in history] == [first["id"], listed["id"]]
    assert history[0]["note"] == "first look"  # the earlier decision is kept as it was
    assert listed["excision"]["bodySite"]["code"] == "66480008" and listed["excision"]["procedure"]["label"] == "Shave biopsy"
    assert listed["coding"] == {"system": "http://snomed.info/sct", "code": "440258006", "display": "Excision of skin", "toConfirm": False}
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    assert case["triage"]["outcome"] == "list-for-excision" and case["triage"]["folderId"] == mole
    folders = {f["id"]: f for f in case["folders"]}
    assert folders[mole]["triage"]["id"] == listed["id"] and folders[rash]["triage"]["outcome"] == "discharge"
    assert case["urgency"] == "routine" and case["fds"] is None


def test_internal_note_never_reaches_the_patient(scene, client):
    mole = scene.folder("Mole", bodySite="left-forearm")
    scene.share(folder_ids=[mole])
    triage(client, scene, mole, {"outcome": "urgent-suspected-cancer-referral", "note": SECRET_NOTE, "patientMessage": "We will call you"})
    for path in ("/api/messages", f"/api/folders/{mole}/messages", "/api/me/export", f"/api/folders/{mole}"):
        reply = client.get(path, token=scene.patient.token)
        assert reply.status == 200, path
        assert SECRET_NOTE not in reply.body.decode("utf-8", "replace"), path
    messages = ok(client.get(f"/api/folders/{mole}/messages", token=scene.patient.token))["items"]
    assert any(m["outcome"] and m["outcome"]["code"] == "urgent-suspected-cancer-referral" and m["text"] == "We will call you" for m in messages)
    outbox = json.dumps(client.services.queue.take("notifications"))
    assert SECRET_NOTE not in outbox


def test_list_for_excision_needs_procedure_and_priority(scene, client):
    mole = scene.folder("Mole")
    scene.share(folder_ids=[mole])
    triage(client, scene, mole, {"outcome": "list-for-excision"}, status=422)
    triage(client, scene, mole, {"outcome": "discharge", "excision": {"procedure": "punch", "priority": "asap"}}, status=422)
    triage(client, scene, mole, {"outcome": "list-for-excision", "excision": {"procedure": "laser", "priority": "asap"}}, status=400)


def test_a_folder_outside_the_share_is_404(scene, client):
    shared, private = scene.folder("Shared"), scene.folder("Private")
    scene.share(folder_ids=[shared])
    triage(client, scene, private, {"outcome": "discharge"}, status=404)


def test_usc_starts_the_28_day_clock_from_receipt_and_leads_the_urgent_worklist(client):
    doctor_scene = build_scene(client)
    older = doctor_scene.folder("Back mole")
    doctor_scene.share(folder_ids=[older])
    client.services.clock.advance(days=2)
    other = build_scene(client, patient_sub="patient-b", patient_name="Bob Other", clinic_name="Leeds Dermatology")
    # the second scene made its own clinic: share bob's folder with the first clinic instead
    bob_folder = other.folder("Shoulder mole")
    grant_share(client, other.patient.token, doctor_scene.clinic["id"], folder_ids=[bob_folder])
    client.services.clock.advance(days=3)
    token = doctor_scene.doctor.token
    cases = ok(client.get("/api/clinic/cases?sort=urgency", token=token))["items"]
    assert [c["urgency"] for c in cases] == ["awaiting-triage", "awaiting-triage"]
    assert cases[0]["caseId"] == doctor_scene.case_id()  # waiting longest first
    bob_case = [c["caseId"] for c in cases][1]
    ok(
        client.post(f"/api/clinic/cases/{bob_case}/folders/{bob_folder}/triage", token=token, json={"outcome": "urgent-suspected-cancer-referral"}),
        201,
    )
    urgent = ok(client.get("/api/clinic/cases?filter=urgent&sort=urgency", token=token))["items"]
    assert [c["caseId"] for c in urgent] == [bob_case]
    assert urgent[0]["fds"]["daysRemaining"] == 25 and urgent[0]["fds"]["breached"] is False  # received 3 days ago
    ordered = ok(client.get("/api/clinic/cases?sort=urgency", token=token))["items"]
    assert [c["caseId"] for c in ordered] == [bob_case, doctor_scene.case_id()]
    assert client.get("/api/clinic/cases?sort=alphabetical", token=token).status == 400


def test_patient_answers_lesion_history_and_the_clinic_sees_it_in_the_case(scene, client):
    mole = scene.folder("Mole", bodySite="left-forearm")
    scene.share(folder_ids=[mole])
    assert client.get(f"/api/folders/{mole}/lesion-history", token=scene.patient.token).status == 404
    stored = ok(client.put(f"/api/folders/{mole}/lesion-history", token=scene.patient.token, json=ANSWERS))
    assert stored["answers"][-1] == {
        "linkId": "skinType",
        "question": "Which best describes your skin in the sun?",
        "answer": "II",
        "answerText": "Usually burns, tans a little (fair skin)",
    }
    assert ok(client.get(f"/api/folders/{mole}/lesion-history", token=scene.doctor.token))["answers"] == stored["answers"]
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    assert case["folders"][0]["lesionHistory"]["answers"] == stored["answers"]
    assert client.put(f"/api/folders/{mole}/lesion-history", token=scene.doctor.token, json=ANSWERS).status == 404


def test_intimate_folder_is_flagged_blurred_and_show_photo_is_audited(scene, client):
    private = scene.folder("Private area", bodySite="genitals")
    image = scene.photo(private)
    scene.share(folder_ids=[private])
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    assert case["folders"][0]["intimate"] is True
    shown = ok(client.post(f"/api/clinic/cases/{scene.case_id()}/images/{image}/reveal", token=scene.doctor.token))
    assert shown["imageId"] == image
    audit = client.services.store.query(AUDIT, scene.patient_id, where={"action": "revealed-intimate-photo"}).items
    assert [(a["targetType"], a["targetId"], a["actorId"]) for a in audit] == [("image", image, "doc-1")]
    trail = ok(client.get("/api/audit", token=scene.patient.token))
    assert "chose to show a photo of an intimate area" in json.dumps(trail)


def test_intimate_folders_cannot_be_shared_for_teaching_or_research(scene, client):
    private = scene.folder("Private area", bodySite="perianal")
    body = share_body(client, scene.patient.token, scene.clinic["id"], folder_ids=[private], purposes=("direct-care", "teaching"))
    reply = client.post("/api/shares", token=scene.patient.token, json=body)
    assert reply.status == 422 and "own care only" in reply.json()["detail"]
    everything = share_body(client, scene.patient.token, scene.clinic["id"], purposes=("direct-care", "research"))
    assert client.post("/api/shares", token=scene.patient.token, json=everything).status == 422


def test_under_18_cannot_share_intimate_photos_and_shares_only_for_care(scene, client):
    ok(client.put("/api/me", token=scene.patient.token, json={"dateOfBirth": "2012-04-01"}))
    private, arm = scene.folder("Private area", bodySite="breast"), scene.folder("Arm", bodySite="left-forearm")
    reply = client.post(
        "/api/shares", token=scene.patient.token, json=share_body(client, scene.patient.token, scene.clinic["id"], folder_ids=[private])
    )
    assert reply.status == 422 and "contact your clinic" in reply.json()["detail"]
    teaching = share_body(client, scene.patient.token, scene.clinic["id"], folder_ids=[arm], purposes=("direct-care", "teaching"))
    assert client.post("/api/shares", token=scene.patient.token, json=teaching).status == 422
    scene.share(folder_ids=[arm])
    (row,) = ok(client.get("/api/clinic/cases", token=scene.doctor.token))["items"]
    assert row["under18"] is True
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    assert case["patientFlags"]["under18"] is True and case["patientFlags"]["nhsNumberStatus"] == "absent"


def test_a_self_typed_nhs_number_is_not_verified(scene, client):
    ok(client.put("/api/me", token=scene.patient.token, json={"nhsNumber": "9434765919"}))
    scene.share()
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    assert case["patientFlags"]["nhsNumberStatus"] == "unverified"


def test_reveal_is_404_for_another_clinic(scene, client):
    private = scene.folder("Private area", bodySite="genitals")
    image = scene.photo(private)
    scene.share(folder_ids=[private])
    stranger = actor(client, "doc-x", "clinician", "Dr Stranger")
    assert client.post(f"/api/clinic/cases/{scene.case_id()}/images/{image}/reveal", token=stranger.token).status == 404


def test_nhs_login_verified_number_replaces_a_typed_one_and_cannot_be_changed(scene, client):
    ok(client.put("/api/me", token=scene.patient.token, json={"nhsNumber": "9434765870"}))
    verified = client.services.dev_issuer.mint("patient-a", "Alice Example", "patient", "alice@example.org", nhs_number="9434765919")["access_token"]
    me = ok(client.get("/api/me", token=verified))
    assert me["nhsNumber"] == "9434765919" and me["nhsNumberVerified"] is True
    assert client.put("/api/me", token=verified, json={"nhsNumber": "9434765870"}).status == 422
    scene.share()
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    assert case["patientFlags"]["nhsNumberStatus"] == "verified"


def test_an_invalid_nhs_number_claim_is_ignored(scene, client):
    token = client.services.dev_issuer.mint("patient-a", "Alice Example", "patient", nhs_number="9434765918")["access_token"]
    me = ok(client.get("/api/me", token=token))
    assert me["nhsNumber"] is None and not me.get("nhsNumberVerified")


def test_one_nhs_number_on_two_different_people_is_flagged_to_the_clinic(scene, client):
    ok(client.put("/api/me", token=scene.patient.token, json={"nhsNumber": "9434765919", "dateOfBirth": "1970-01-01"}))
    scene.share()
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    assert case["patientFlags"]["duplicateNhsNumber"] is False
    other = actor(client, "patient-b", "patient", "Bob Different")
    ok(client.put("/api/me", token=other.token, json={"nhsNumber": "9434765919", "dateOfBirth": "1990-09-09"}))
    grant_share(client, other.token, scene.clinic["id"])
    case = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
    assert case["patientFlags"]["duplicateNhsNumber"] is True


MEASURE = {"calibration": {"line": {"x1": 10, "y1": 10, "x2": 210, "y2": 10}, "millimetres": 10}, "line": {"x1": 50, "y1": 50, "x2": 50, "y2": 174}}


def test_a_lesion_measured_on_a_ruler_is_saved_for_the_clinic_only(scene, client):
    mole = scene.folder("Mole", bodySite="left-forearm")
    image = scene.photo(mole)
    scene.share(folder_ids=[mole])
    base = f"/api/clinic/cases/{scene.case_id()}/images/{image}/measurements"
    saved = ok(client.post(base, token=scene.doctor.token, json={**MEASURE, "label": "widest"}), 201)
    assert saved["lengthMm"] == 6.2 and saved["author"]["name"] == "Dr Dana Scully"
    assert [m["id"] for m in ok(client.get(base, token=scene.doctor.token))["items"]] == [saved["id"]]
    tiny = {**MEASURE, "calibration": {"line": {"x1": 0, "y1": 0, "x2": 3, "y2": 0}, "millimetres": 10}}
    assert client.post(base, token=scene.doctor.token, json=tiny).status == 422
    for path in (f"/api/images/{image}", f"/api/folders/{mole}/messages", "/api/me/export"):
        assert "6.2" not in client.get(path, token=scene.patient.token).body.decode("utf-8", "replace")


def test_the_epr_export_carries_the_listing_the_lesion_history_and_the_measurement(scene, client):
    import io
    import zipfile

    from fhir.resources.R4B.bundle import Bundle

    from shared_code.ports import EXPORT_JOBS_QUEUE
    from shared_code.services import exports

    ok(client.put("/api/me", token=scene.patient.token, json={"nhsNumber": "9434765919", "givenName": "Alice", "familyName": "Example"}))
    mole = scene.folder("Mole", bodySite="left-forearm")
    image = scene.photo(mole)
    scene.share(folder_ids=[mole])
    ok(client.put(f"/api/folders/{mole}/lesion-history", token=scene.patient.token, json=ANSWERS))
    triage(
        client, scene, mole, {"outcome": "list-for-excision", "note": SECRET_NOTE, "excision": {"procedure": "excision-biopsy", "priority": "urgent"}}
    )
    ok(client.post(f"/api/clinic/cases/{scene.case_id()}/images/{image}/measurements", token=scene.doctor.token, json=MEASURE), 201)
    accepted = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)
    assert [exports.build(client.services, job) for job in client.services.queue.take(EXPORT_JOBS_QUEUE)] == ["ready"]
    reply = client.get(f"/api/exports/{accepted['exportId']}/content", token=scene.doctor.token)
    with zipfile.ZipFile(io.BytesIO(reply.body)) as zf:
        bundle = json.loads(zf.read("fhir/bundle.json"))
    Bundle.model_validate(bundle)
    kinds = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    request = kinds["ServiceRequest"]
    assert request["priority"] == "urgent" and request["bodySite"][0]["coding"][0]["code"] == "66480008"
    assert request["code"]["text"] == "Excision biopsy"
    assert kinds["QuestionnaireResponse"]["status"] == "completed"
    notes = [n["text"] for n in kinds["Media"].get("note", [])]
    assert any(n.startswith("Measured 6.2 mm") for n in notes)
    patient = kinds["Patient"]
    assert patient["name"][0]["family"] == "Example"
    assert patient["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "02"


def test_widening_a_share_makes_the_added_photos_new_and_the_case_awaits_triage_again(scene, client):
    mole, rash = scene.folder("Mole", bodySite="left-forearm"), scene.folder("Rash", bodySite="scalp")
    scene.photo(mole)
    scene.photo(rash, seed=2)
    scene.photo(rash, seed=3)
    scene.share(folder_ids=[mole])
    triage(client, scene, mole, {"outcome": "routine-follow-up"})
    ok(client.post(f"/api/clinic/cases/{scene.case_id()}/reviewed", token=scene.doctor.token))
    assert ok(client.get("/api/clinic/cases?filter=awaiting-triage", token=scene.doctor.token))["items"] == []
    client.services.clock.advance(minutes=5)
    scene.share(folder_ids=[mole, rash])
    (row,) = ok(client.get("/api/clinic/cases?filter=awaiting-triage", token=scene.doctor.token))["items"]
    assert row["newImageCount"] == 2 and row["urgency"] == "awaiting-triage"


def test_new_since_review_counts_only_photos_that_still_exist_and_are_in_scope(scene, client):
    mole = scene.folder("Mole", bodySite="left-forearm")
    scene.photo(mole)
    second = scene.photo(mole, seed=2)
    scene.share(folder_ids=[mole])
    assert ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))["newImageCount"] == 2
    ok(client.delete(f"/api/images/{second}", token=scene.patient.token), 204)
    assert ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))["newImageCount"] == 1
    ok(client.post(f"/api/clinic/cases/{scene.case_id()}/reviewed", token=scene.doctor.token))
    assert ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))["newImageCount"] == 0


def test_erasing_the_account_removes_the_clinics_triage_entries_and_measurements(scene, client):
    from shared_code.ports import CLINICS

    mole = scene.folder("Mole on my left knee", bodySite="left-knee")
    image = scene.photo(mole)
    scene.share(folder_ids=[mole])
    triage(client, scene, mole, {"outcome": "list-for-excision", "excision": {"procedure": "shave", "priority": "routine"}})
    ok(client.post(f"/api/clinic/cases/{scene.case_id()}/images/{image}/measurements", token=scene.doctor.token, json=MEASURE), 201)
    ok(client.delete("/api/me", token=scene.patient.token), 204)
    left = client.services.store.query(CLINICS, scene.clinic["id"], limit=200).items
    assert not [d for d in left if d.get("type") in ("triage-entry", "measurement")]
    assert "Mole on my left knee" not in json.dumps(left)
