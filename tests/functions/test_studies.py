"""Research studies through the API: enrolment with consent, pseudonymised researcher views, withdrawal,
and the de-identified research export built by the export job."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile

import pydicom
import pytest
from azure.functions.queue import QueueMessage

from shared_code.export_package.dicom import uuid_derived_uid
from shared_code.ports import CLINICS, EXPORT_JOBS_QUEUE
from tests.support.functions_client import registry
from tests.support.library_helpers import actor, build_scene, ok

NAME = "Orla Quennell-Fitch"
NHS = "9434765919"
DOB = "1961-03-14"
EMAIL = "orla.qf@example.org"
FOLDER_NAME = "Zebra mole by the tattoo"
FOLDER_NOTES = "Bled after gardening in June"
PHOTO_NOTES = "Taken the morning after the sunburn"
SCALP_NOTES = "Itchy patch under the fringe"


def study_body(clinic_id: str, **overrides) -> dict:
    body = {
        "clinicId": clinic_id,
        "title": "Psoriasis photo study",
        "sponsor": "Newcastle upon Tyne Hospitals NHS Foundation Trust",
        "recReference": "24/NE/0123",
        "irasId": "312456",
        "startDate": "2026-01-01",
        "endDate": "2027-12-31",
        "scheduleWeeks": [0, 4, 12],
        "bodySites": ["left-forearm", "scalp"],
        "participantInformation": {
            "title": "Taking part in the psoriasis photo study",
            "paragraphs": ["We would like to use photos of your skin.", "You can leave at any time."],
        },
    }
    body.update(overrides)
    return body


@pytest.fixture
def world(client):
    scene = build_scene(client, patient_name=NAME, patient_email=EMAIL)
    ok(client.put("/api/me", token=scene.patient.token, json={"dateOfBirth": DOB, "nhsNumber": NHS, "email": EMAIL}))
    study = ok(client.post("/api/manage/studies", token=scene.admin, json=study_body(scene.clinic["id"])), 201)
    ok(client.post(f"/api/manage/studies/{study['id']}/researchers", token=scene.admin, json={"sub": "res-1", "name": "Dr Rosalind Reed"}), 201)
    researcher = actor(client, "res-1", "clinician", "Dr Rosalind Reed")
    return scene, study, researcher


def enrol(client, scene, study, folder_ids, sex="female"):
    found = ok(client.get(f"/api/studies?code={study['enrolmentCode']}", token=scene.patient.token))
    info = found["participantInformation"]
    body = {
        "studyId": found["id"],
        "folderIds": folder_ids,
        "sex": sex,
        "consent": {"version": info["version"], "textHash": info["textHash"], "accepted": True},
    }
    return ok(client.post("/api/enrolments", token=scene.patient.token, json=body), 201)


def test_patient_finds_the_study_by_code_and_reads_versioned_hashed_information(client, world):
    scene, study, _ = world
    found = ok(client.get(f"/api/studies?code={study['enrolmentCode'].lower().replace('-', '')}", token=scene.patient.token))
    assert found["title"] == "Psoriasis photo study" and found["openForEnrolment"] is True
    assert found["participantInformation"]["version"] == "1" and found["participantInformation"]["textHash"].startswith("sha256:")
    assert [s["code"] for s in found["bodySites"]] == ["left-forearm", "scalp"]
    assert client.get("/api/studies?code=ZZZZ-ZZZZ", token=scene.patient.token).status == 404


def test_enrolment_needs_the_current_text_and_the_patients_own_folders(client, world):
    scene, study, _ = world
    folder = scene.folder("Arm", bodySite="left-forearm")
    found = ok(client.get(f"/api/studies?code={study['enrolmentCode']}", token=scene.patient.token))
    info = found["participantInformation"]
    base = {"studyId": found["id"], "folderIds": [folder], "consent": {"version": "1", "textHash": info["textHash"], "accepted": True}}
    wrong_hash = {**base, "consent": {**base["consent"], "textHash": "sha256:" + "0" * 64}}
    assert client.post("/api/enrolments", token=scene.patient.token, json=wrong_hash).status == 422
    not_accepted = {**base, "consent": {**base["consent"], "accepted": False}}
    assert client.post("/api/enrolments", token=scene.patient.token, json=not_accepted).status == 422
    assert client.post("/api/enrolments", token=scene.patient.token, json={**base, "folderIds": ["fld-not-mine"]}).status == 422
    ok(client.post(f"/api/manage/studies/{study['id']}/information", token=scene.admin, json={"title": "v2", "paragraphs": ["Changed."]}), 201)
    assert client.post("/api/enrolments", token=scene.patient.token, json=base).status == 422  # version 1 is no longer current
    enrolment = enrol(client, scene, study, [folder])
    assert enrolment["consent"]["version"] == "2" and enrolment["status"] == "active"
    assert client.post("/api/enrolments", token=scene.patient.token, json={**base, "consent": enrolment["consent"] | {"accepted": True}}).status in (
        400,
        422,
    )


def test_schedule_shows_timepoints_due_relative_to_enrolment(client, world):
    scene, study, _ = world
    folder = scene.folder("Arm", bodySite="left-forearm")
    enrolment = enrol(client, scene, study, [folder])
    assert [(t["week"], t["day"], t["state"]) for t in enrolment["schedule"]] == [(0, 0, "due"), (4, 28, "upcoming"), (12, 84, "upcoming")]
    scene.photo(folder)
    client.services.clock.advance(days=40)
    got = ok(client.get(f"/api/enrolments/{enrolment['id']}", token=scene.patient.token))
    assert [(t["week"], t["state"]) for t in got["schedule"]] == [(0, "done"), (4, "missed"), (12, "upcoming")]
    assert got["schedule"][1]["dueDate"] == "2026-12-25"


def test_researcher_sees_pseudonyms_only_and_every_look_is_in_the_patients_audit(client, world):
    scene, study, researcher = world
    arm = scene.folder(FOLDER_NAME, bodySite="left-forearm", notes=FOLDER_NOTES)
    photo = scene.photo(arm, notes=PHOTO_NOTES)
    enrolment = enrol(client, scene, study, [arm])
    client.services.clock.advance(days=28)
    later = scene.photo(arm)
    reply = client.get(f"/api/research/studies/{study['id']}/participants", token=researcher.token)
    body = ok(reply)
    text = reply.body.decode()
    for secret in (NAME, NHS, DOB, EMAIL, FOLDER_NAME, FOLDER_NOTES, PHOTO_NOTES, scene.patient_id, enrolment["id"], arm):
        assert secret not in text
    (row,) = body["items"]
    assert row["participantId"] == enrolment["participantCode"] and re.fullmatch(r"SVP-[A-Z0-9]{4}-[A-Z0-9]{4}", row["participantId"])
    assert (row["yearOfBirth"], row["sex"], row["status"]) == (1961, "female", "on-study")
    assert [(p["day"], p["timepointWeek"], p["bodySite"]) for p in row["photos"]] == [(0, 0, "left-forearm"), (28, 4, "left-forearm")]
    url = f"/api/research/studies/{study['id']}/participants/{row['participantId']}/photos/{later}/content?size=thumbnail"
    image = client.get(url, token=researcher.token)
    assert image.status == 200 and image.body[:3] == b"\xff\xd8\xff" and image.headers["Cache-Control"] == "no-store"
    trail = ok(client.get("/api/audit?limit=200", token=scene.patient.token))["items"]
    research = [e for e in trail if e["actor"]["kind"] == "researcher"]
    assert {e["action"] for e in research} == {"research-viewed-participants", "research-viewed-photo"}
    assert all(e["actor"]["name"] == "Dr Rosalind Reed" for e in research)
    assert photo  # the day-0 photo is listed above


def test_withdrawal_stops_researcher_access_at_the_next_request(client, world):
    scene, study, researcher = world
    arm = scene.folder("Arm", bodySite="left-forearm")
    photo = scene.photo(arm)
    enrolment = enrol(client, scene, study, [arm])
    url = f"/api/research/studies/{study['id']}/participants/{enrolment['participantCode']}/photos/{photo}/content"
    assert client.get(url, token=researcher.token).status == 200
    withdrawn = ok(client.delete(f"/api/enrolments/{enrolment['id']}", token=scene.patient.token))
    assert withdrawn["status"] == "withdrawn" and withdrawn["schedule"] == []
    assert client.get(url, token=researcher.token).status == 404
    (row,) = ok(client.get(f"/api/research/studies/{study['id']}/participants", token=researcher.token))["items"]
    assert row["status"] == "withdrawn" and row["photos"] == [] and row["yearOfBirth"] is None and row["withdrawnDay"] == 0


def test_removed_researcher_and_unenrolled_folders_are_not_reachable(client, world):
    scene, study, researcher = world
    arm, scalp = scene.folder("Arm", bodySite="left-forearm"), scene.folder("Scalp", bodySite="scalp")
    scalp_photo = scene.photo(scalp)
    enrolment = enrol(client, scene, study, [arm])
    base = f"/api/research/studies/{study['id']}/participants/{enrolment['participantCode']}/photos"
    assert client.get(f"{base}/{scalp_photo}/content", token=researcher.token).status == 404
    arm_photo = scene.photo(arm)
    assert client.get(f"{base}/{arm_photo}/content", token=researcher.token).status == 200
    ok(client.delete(f"/api/manage/studies/{study['id']}/researchers/res-1", token=scene.admin), 204)
    assert client.get(f"{base}/{arm_photo}/content", token=researcher.token).status == 404
    assert client.get(f"/api/research/studies/{study['id']}", token=researcher.token).status == 404


# ----------------------------------------------------------------------------- the research export
def run_export_jobs(client) -> list[None]:
    _, _, queues = registry()
    (fn,) = [f for f in queues if f.get_function_name() == "build_export"]
    jobs = client.services.queue.take(EXPORT_JOBS_QUEUE)
    for n, job in enumerate(jobs):
        fn.get_user_function()(QueueMessage(id=f"job-{n}", body=json.dumps(job).encode()))
    return jobs


def _export(client, scene, study, researcher) -> tuple[dict, bytes]:
    accepted = ok(client.post(f"/api/research/studies/{study['id']}/exports", token=researcher.token), 202)
    assert len(run_export_jobs(client)) == 1
    status = ok(client.get(f"/api/research/studies/{study['id']}/exports/{accepted['exportId']}", token=researcher.token))
    reply = client.get(f"/api/research/studies/{study['id']}/exports/{accepted['exportId']}/content", token=researcher.token)
    assert reply.status == 200 and reply.content_type == "application/zip"
    return status, reply.body


def _unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _date_forms(iso_date: str) -> list[str]:
    y, m, d = iso_date.split("-")
    return [iso_date, f"{y}{m}{d}", f"{d}/{m}/{y}", f"{y}:{m}:{d}", "14 March 1961", "14 Mar 1961"]


def test_research_export_contains_no_identifier_anywhere(client, world, tmp_path):
    scene, study, researcher = world
    arm = scene.folder(FOLDER_NAME, bodySite="left-forearm", notes=FOLDER_NOTES, condition="Changing naevus")
    scalp = scene.folder("Scalp", bodySite="scalp", notes=SCALP_NOTES)
    photos = [scene.photo(arm, notes=PHOTO_NOTES), scene.photo(scalp, seed=3)]
    enrolment = enrol(client, scene, study, [arm, scalp])
    client.services.clock.advance(days=29)
    photos.append(scene.photo(arm, seed=4))
    other = build_scene(client, patient_sub="patient-b", patient_name="Bartholomew Quince", patient_email="bq@example.org")
    assert other.patient_id  # a second participant who withdraws before the export
    gone = other.folder("Leg")
    other.photo(gone)
    other_enrolment = enrol(client, other, study, [gone], sex=None)
    ok(client.delete(f"/api/enrolments/{other_enrolment['id']}", token=other.patient.token))

    status, data = _export(client, scene, study, researcher)
    assert (status["status"], status["participantCount"], status["photoCount"]) == ("ready", 2, 3)
    files = _unzipped(data)
    assert {"participants.csv", "timepoints.csv", "fhir/bundle.json", "README.txt"} <= set(files)
    assert len([n for n in files if n.endswith(".dcm")]) == 3

    secrets = [NAME, *NAME.split(), NHS, "943 476 5919", EMAIL, FOLDER_NAME, FOLDER_NOTES, PHOTO_NOTES, SCALP_NOTES, "Changing naevus"]
    secrets += _date_forms(DOB)
    secrets += ["Bartholomew", "bq@example.org", "Leeds Dermatology", "Dr Dana Scully", "patient-a", "patient-b"]
    secrets += [scene.patient_id, other.patient_id, enrolment["id"], other_enrolment["id"], arm, scalp, gone, *photos]
    secrets += ["2026-11", "20261127", "20261226", "2026:11"]  # the real capture and enrolment dates
    for image_id in photos:  # the UIDs SkinVault's EPR export would give these photos
        secrets += [uuid_derived_uid("instance", status["exportId"], image_id), uuid_derived_uid("series", status["exportId"], arm)]
    secrets.append(uuid_derived_uid("study", status["exportId"]))
    for name, content in files.items():
        for secret in secrets:
            for encoding in ("utf-8", "utf-16-le"):
                assert secret.encode(encoding) not in content, f"{secret!r} found in {name}"
                assert secret.lower().encode(encoding) not in content.lower(), f"{secret!r} found in {name}"
    assert enrolment["participantCode"].encode() in files["participants.csv"]

    dciodvfy = shutil.which("dciodvfy")
    assert dciodvfy, "dciodvfy (Debian package dicom3tools) must be installed"
    sops = set()
    for name, content in files.items():
        if not name.endswith(".dcm"):
            continue
        ds = pydicom.dcmread(io.BytesIO(content))
        assert ds.PatientIdentityRemoved == "YES" and ds.DeidentificationMethod and ds.PatientID == enrolment["participantCode"]
        sops.add(ds.SOPInstanceUID)
        path = tmp_path / name.replace("/", "_")
        path.write_bytes(content)
        result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
        errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error")]
        assert errors == [], f"{name}: {errors}"
    assert len(sops) == 3
    timepoints = files["timepoints.csv"].decode()
    assert all(uid in timepoints for uid in sops)


def test_research_export_is_stored_encrypted_expires_and_is_audited(client, world):
    scene, study, researcher = world
    arm = scene.folder("Arm", bodySite="left-forearm")
    scene.photo(arm)
    enrol(client, scene, study, [arm])
    status, _ = _export(client, scene, study, researcher)
    stored = [name for (container, name) in client.services.blobs.blobs if container == "exports"]
    assert stored == [f"research/{study['id']}/{status['exportId']}.zip"]
    trail = ok(client.get("/api/audit?limit=200", token=scene.patient.token))["items"]
    assert "research-exported" in {e["action"] for e in trail}
    client.services.clock.advance(hours=client.services.settings.export_ttl_hours + 1)
    url = f"/api/research/studies/{study['id']}/exports/{status['exportId']}"
    assert ok(client.get(url, token=researcher.token))["status"] == "expired"
    assert client.get(url + "/content", token=researcher.token).status == 410
    assert not [name for (container, name) in client.services.blobs.blobs if container == "exports"]


def test_admin_routes_are_for_admins_only(client, world):
    scene, study, researcher = world
    assert client.get("/api/manage/studies", token=researcher.token).status == 403
    assert client.get("/api/manage/studies", token=scene.patient.token).status == 403
    studies = ok(client.get("/api/manage/studies", token=scene.admin))["items"]
    assert [s["id"] for s in studies] == [study["id"]]
    bad = study_body(scene.clinic["id"], bodySites=["elbow-of-nowhere"])
    assert client.post("/api/manage/studies", token=scene.admin, json=bad).status == 422
    assert client.post("/api/manage/studies", token=scene.admin, json=study_body("cln-nope")).status == 404
    assert client.post("/api/manage/studies", token=scene.admin, json=study_body(scene.clinic["id"], endDate="2025-01-01")).status == 422


def test_an_erased_account_leaves_the_study_at_once(client, world):
    scene, study, researcher = world
    arm = scene.folder("Arm", bodySite="left-forearm")
    photo = scene.photo(arm)
    enrolment = enrol(client, scene, study, [arm])
    ok(client.delete("/api/me", token=scene.patient.token), 204)
    url = f"/api/research/studies/{study['id']}/participants/{enrolment['participantCode']}/photos/{photo}/content"
    assert client.get(url, token=researcher.token).status == 404
    (row,) = ok(client.get(f"/api/research/studies/{study['id']}/participants", token=researcher.token))["items"]
    assert row["status"] == "withdrawn" and row["photos"] == [] and row["withdrawnDay"] == 0
    participants = client.services.store.query(CLINICS, scene.clinic["id"], where={"type": "participant"}, limit=10).items
    assert [p["patientId"] for p in participants] == [None]  # the study keeps no link to the erased account


def test_wrong_study_codes_are_rate_limited_per_patient(client, world):
    scene, study, _ = world
    for _ in range(10):
        assert client.get("/api/studies?code=WRNG-CODE", token=scene.patient.token).status == 404
    limited = client.get(f"/api/studies?code={study['enrolmentCode']}", token=scene.patient.token)
    assert limited.status == 429 and limited.headers.get("Retry-After")
    assert client.get("/api/studies", token=scene.patient.token).status == 400


def test_timepoints_due_lists_each_due_timepoint_once_for_the_reminders_job(client, world):
    from shared_code.services import studies

    scene, study, _ = world
    arm = scene.folder("Arm", bodySite="left-forearm")
    enrolment = enrol(client, scene, study, [arm])
    (first,) = studies.timepoints_due(client.services)
    assert (first["enrolmentId"], first["week"], first["patientId"]) == (enrolment["id"], 0, scene.patient_id)
    assert studies.timepoints_due(client.services)[0]["reminderId"] == first["reminderId"]
    scene.photo(arm)
    assert studies.timepoints_due(client.services) == []  # week 0 done; week 4 not yet due
    client.services.clock.advance(days=27)
    assert [d["week"] for d in studies.timepoints_due(client.services)] == [4]
    ok(client.delete(f"/api/enrolments/{enrolment['id']}", token=scene.patient.token))
    assert studies.timepoints_due(client.services) == []


def test_intimate_site_folders_and_patients_under_18_cannot_enrol(client, world):
    scene, study, _ = world
    intimate = ok(client.post("/api/folders", token=scene.patient.token, json={"name": "Private", "bodySite": "genitals"}), 201)
    found = ok(client.get(f"/api/studies?code={study['enrolmentCode']}", token=scene.patient.token))
    info = found["participantInformation"]
    consent = {"version": info["version"], "textHash": info["textHash"], "accepted": True}
    refused = client.post(
        "/api/enrolments", token=scene.patient.token, json={"studyId": found["id"], "folderIds": [intimate["id"]], "consent": consent}
    )
    assert refused.status == 422 and "intimate" in refused.json()["detail"].lower(), refused.json()
    assert client.get("/api/enrolments", token=scene.patient.token).json()["items"] == []
    plain = ok(client.post("/api/folders", token=scene.patient.token, json={"name": "Arm", "bodySite": "left-forearm"}), 201)
    ok(client.put("/api/me", token=scene.patient.token, json={"dateOfBirth": "2015-06-01"}))
    minor = client.post("/api/enrolments", token=scene.patient.token, json={"studyId": found["id"], "folderIds": [plain["id"]], "consent": consent})
    assert minor.status == 422 and "18" in minor.json()["detail"], minor.json()
