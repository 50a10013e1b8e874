"""The consent-to-triage journey over HTTP: share, email, worklist, view, comment, triage, audit, revoke, export."""

from __future__ import annotations

import io
import json
import subprocess
import time
import zipfile

from tests.e2e.helpers import Clinic, Patient, ok, upload_photo, wait_for
from tests.support.images import make_photo


def test_patient_shares_clinic_works_the_case_and_patient_revokes(stack):
    clinic = Clinic(stack, name="Journey Dermatology")
    patient = Patient(stack, name="Jo Journey", email="jo.journey@example.org")
    image_id = upload_photo(patient.api, patient.folder["id"], make_photo(640, 480, seed=21), notes="itchy-note-123")
    assert wait_for(patient.api, image_id)["status"] == "ready"
    before = stack.emails()  # other tests' emails may still arrive: this test looks for its clinic's

    # the patient finds the clinic by its code and shares after reading the consent text
    found = ok(patient.api.get("/api/clinics", params={"code": clinic.clinic["shareCode"].lower().replace("-", "")}))
    assert found["id"] == clinic.id and found["organisation"]["odsCode"] == "RTD"
    share = patient.share_with(clinic.id)
    assert share["state"] == "active"

    # the clinic is emailed, without patient details
    deadline = time.monotonic() + 20
    new: list[str] = []
    while not any(clinic.clinic["notificationEmail"] in m for m in new) and time.monotonic() < deadline:
        time.sleep(0.2)
        new = [m for m in stack.emails() if m not in before]
    assert any(clinic.clinic["notificationEmail"] in m for m in new)
    for mail in new:
        for secret in ("Jo Journey", "9434765919", "1970-01-31", "itchy-note-123", "secret-note-xyz", "Changing mole"):
            assert secret not in mail

    # worklist -> case -> photo
    cases = ok(clinic.api.get("/api/clinic/cases"))["items"]
    assert len(cases) == 1 and cases[0]["patient"]["displayName"] == "Jo Journey"
    case_id = cases[0]["caseId"]
    case = ok(clinic.api.get(f"/api/clinic/cases/{case_id}"))
    assert case["patient"]["nhsNumber"] == "9434765919"
    assert [i["id"] for f in case["folders"] for i in f["images"]] == [image_id]
    assert clinic.api.get(f"/api/images/{image_id}/content", params={"size": "preview"}).status_code == 200

    # comment, triage, reviewed
    ok(clinic.api.post(f"/api/images/{image_id}/comments", json={"text": "Please photograph again in daylight."}), 201)
    triage = ok(clinic.api.put(f"/api/clinic/cases/{case_id}/triage", json={"outcome": "routine-follow-up", "note": "Looks benign"}))
    assert triage["outcome"] == "routine-follow-up"
    ok(clinic.api.post(f"/api/clinic/cases/{case_id}/reviewed"))

    # the patient sees the comment and the audit entries
    comments = ok(patient.api.get(f"/api/images/{image_id}/comments"))["items"]
    assert comments[0]["text"] == "Please photograph again in daylight." and comments[0]["author"]["name"] == "Dr Test Clinician"
    trail = ok(patient.api.get("/api/audit"))["items"]
    actions = {e["action"] for e in trail}
    assert {"share-granted", "viewed-case", "viewed-image-content", "commented", "triaged", "reviewed"} <= actions
    assert any("Dr Test Clinician" in e["summary"] and "Journey Dermatology" in e["summary"] for e in trail)

    # revoke: the very next request is 404
    ok(patient.api.delete(f"/api/shares/{share['id']}"))
    assert clinic.api.get(f"/api/images/{image_id}/content", params={"size": "preview"}).status_code == 404
    assert clinic.api.get(f"/api/clinic/cases/{case_id}").status_code == 404
    (ended,) = ok(clinic.api.get("/api/clinic/cases"))["items"]  # kept 30 days, marked, nothing shared
    assert (ended["caseId"], ended["status"], ended["folders"]) == (case_id, "sharing-ended", [])
    assert ok(patient.api.get("/api/shares"))["items"][0]["state"] == "revoked"


def test_clinician_exports_the_case_to_a_package_for_the_record(stack, tmp_path):
    clinic = Clinic(stack, name="Export Dermatology")
    patient = Patient(stack, name="Eve Export")
    ids = [upload_photo(patient.api, patient.folder["id"], make_photo(800, 600, seed=30 + n), notes=f"note {n}") for n in range(2)]
    for image_id in ids:
        assert wait_for(patient.api, image_id)["status"] == "ready"
    patient.share_with(clinic.id)
    case_id = ok(clinic.api.get("/api/clinic/cases"))["items"][0]["caseId"]
    ok(clinic.api.post(f"/api/images/{ids[0]}/comments", json={"text": "Border irregular"}), 201)
    ok(clinic.api.put(f"/api/clinic/cases/{case_id}/triage", json={"outcome": "list-for-excision", "note": "Excise"}))

    job = ok(clinic.api.post("/api/exports", json={"caseId": case_id}), 202)
    deadline = time.monotonic() + 60
    while True:
        status = ok(clinic.api.get(f"/api/exports/{job['exportId']}"))
        if status["status"] in ("ready", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert status["status"] == "ready", status
    r = clinic.api.get(f"/api/exports/{job['exportId']}/content")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        bundle = json.loads(zf.read("fhir/bundle.json"))
        dicoms = [n for n in names if n.startswith("dicom/")]
        assert len(dicoms) == 2 and len([n for n in names if n.startswith("images/")]) == 2
        assert "summary.pdf" in names
        (tmp_path / "one.dcm").write_bytes(zf.read(dicoms[0]))
    kinds = sorted({e["resource"]["resourceType"] for e in bundle["entry"]})
    assert {"DocumentReference", "Media", "Patient", "Provenance"} <= set(kinds)
    # by default each Media points at its JPEG inside the package (one copy, no inline base64 Binary)
    assert "Binary" not in kinds
    media_urls = {e["resource"]["content"]["url"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Media"}
    assert len(media_urls) == 2 and media_urls <= set(names)
    check = subprocess.run(["dciodvfy", str(tmp_path / "one.dcm")], capture_output=True, text=True)
    assert "Error" not in check.stdout + check.stderr
    trail = ok(patient.api.get("/api/audit"))["items"]
    assert {"export-requested", "export-downloaded"} <= {e["action"] for e in trail}

    other = Clinic(stack, name="Other Dermatology")
    assert other.api.get(f"/api/exports/{job['exportId']}").status_code == 404
    assert other.api.post("/api/exports", json={"caseId": case_id}).status_code == 404


def test_no_patient_data_in_the_host_log(stack):
    log = stack.host_log()
    assert "function=" in log
    for secret in ("Jo Journey", "Eve Export", "9434765919", "itchy-note-123", "secret-note-xyz", "Border irregular", "Bearer ey"):
        assert secret not in log
