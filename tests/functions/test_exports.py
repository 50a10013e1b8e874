"""EPR export: only the sharing clinic, only while the share is active for direct care, only photos in scope."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest

from shared_code.ports import EXPORT_JOBS_QUEUE, EXPORTS
from shared_code.services import exports
from tests.support.library_helpers import build_scene, clinician_of, create_clinic, ok


@pytest.fixture
def scene(client):
    return build_scene(client)


def _run_jobs(client) -> list[str]:
    return [exports.build(client.services, job) for job in client.services.queue.take(EXPORT_JOBS_QUEUE)]


def test_export_is_built_by_the_job_and_downloads_as_a_package(scene, client):
    folder = scene.folder("Mole on back", bodySite="back")
    photos = [scene.photo(folder), scene.photo(folder)]
    scene.share()
    accepted = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)
    assert accepted["status"] == "queued"
    assert ok(client.get(f"/api/exports/{accepted['exportId']}", token=scene.doctor.token))["status"] == "queued"
    assert _run_jobs(client) == ["ready"]
    status = ok(client.get(f"/api/exports/{accepted['exportId']}", token=scene.doctor.token))
    assert status["status"] == "ready" and status["photoCount"] == 2
    r = client.get(f"/api/exports/{accepted['exportId']}/content", token=scene.doctor.token)
    assert r.status == 200 and r.content_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.body)) as zf:
        bundle = json.loads(zf.read("fhir/bundle.json"))
        assert len([n for n in zf.namelist() if n.startswith("images/")]) == 2
    media = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Media"]
    assert len(media) == len(photos)
    stored = [name for (container, name) in client.services.blobs.blobs if container == EXPORTS]
    assert stored == [f"{scene.patient_id}/{accepted['exportId']}.zip"]


def test_a_second_delivery_of_the_job_does_not_rebuild(scene, client):
    folder = scene.folder("Rash")
    scene.photo(folder)
    scene.share()
    accepted = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)
    (job,) = client.services.queue.take(EXPORT_JOBS_QUEUE)
    assert exports.build(client.services, job) == "ready"
    assert exports.build(client.services, job) == "ready"
    assert ok(client.get(f"/api/exports/{accepted['exportId']}", token=scene.doctor.token))["status"] == "ready"


def test_the_package_expires_and_then_answers_410_and_is_deleted(scene, client):
    folder = scene.folder("Rash")
    scene.photo(folder)
    scene.share(days=30)
    accepted = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)
    _run_jobs(client)
    client.services.clock.advance(hours=25)
    assert ok(client.get(f"/api/exports/{accepted['exportId']}", token=scene.doctor.token))["status"] == "expired"
    assert client.get(f"/api/exports/{accepted['exportId']}/content", token=scene.doctor.token).status == 410
    assert not [n for (c, n) in client.services.blobs.blobs if c == EXPORTS]


def test_revoked_share_hides_the_export_and_ends_a_queued_job(scene, client):
    folder = scene.folder("Rash")
    scene.photo(folder)
    share = scene.share()
    accepted = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)
    ok(client.delete(f"/api/shares/{share['id']}", token=scene.patient.token))
    assert _run_jobs(client) == ["withdrawn"]  # ended when the share was revoked: nothing is built
    assert not [n for (c, n) in client.services.blobs.blobs if c == EXPORTS]
    for path in (f"/api/exports/{accepted['exportId']}", f"/api/exports/{accepted['exportId']}/content"):
        assert client.get(path, token=scene.doctor.token).status == 404
    assert client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}).status == 404


def test_expired_share_cannot_export(scene, client):
    folder = scene.folder("Rash")
    scene.photo(folder)
    scene.share(days=1)
    client.services.clock.advance(days=2)
    assert client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}).status == 404


def test_photos_out_of_scope_cannot_be_exported(scene, client):
    shared, private = scene.folder("Shared"), scene.folder("Private")
    scene.photo(shared)
    hidden = scene.photo(private)
    scene.share(folder_ids=[shared])
    r = client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id(), "imageIds": [hidden]})
    assert r.status == 404 and hidden not in r.body.decode()


def test_a_share_without_direct_care_cannot_export(scene, client):
    # direct-care is mandatory for every share, so a share always allows it; this guards the rule in the service
    folder = scene.folder("Rash")
    scene.photo(folder)
    scene.share(purposes=("direct-care", "teaching"))
    assert client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}).status == 202


def test_another_clinic_gets_404_for_the_export(scene, client):
    folder = scene.folder("Rash")
    scene.photo(folder)
    scene.share()
    accepted = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)
    _run_jobs(client)
    other_clinic = create_clinic(client, scene.admin, "Other Dermatology")
    stranger = clinician_of(client, scene.admin, other_clinic["id"], "doc-2", "Dr Other")
    for path in (f"/api/exports/{accepted['exportId']}", f"/api/exports/{accepted['exportId']}/content"):
        assert client.get(path, token=stranger.token).status == 404
    assert client.post("/api/exports", token=stranger.token, json={"caseId": scene.case_id()}).status == 404
    assert client.get(f"/api/exports/{accepted['exportId']}", token=scene.patient.token).status == 404


def test_export_and_download_are_in_the_patients_audit_trail(scene, client):
    folder = scene.folder("Rash")
    scene.photo(folder)
    scene.share()
    accepted = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)
    _run_jobs(client)
    assert client.get(f"/api/exports/{accepted['exportId']}/content", token=scene.doctor.token).status == 200
    actions = [i["action"] for i in ok(client.get("/api/audit", token=scene.patient.token))["items"]]
    assert "export-requested" in actions and "export-downloaded" in actions


def test_the_package_leaves_out_comments_withdrawn_as_posted_in_error_and_keeps_the_patients_reply(scene, client):
    folder = scene.folder("Mole on back")
    scene.photo(folder)
    scene.share()
    doctor = scene.doctor.token
    wrong = ok(client.post(f"/api/folders/{folder}/comments", token=doctor, json={"text": "Meant for another patient"}), 201)
    ok(client.post(f"/api/folders/{folder}/comments", token=doctor, json={"text": "Looks regular"}), 201)
    ok(client.post(f"/api/folders/{folder}/comments", token=scene.patient.token, json={"text": "It has not changed"}), 201)
    ok(client.post(f"/api/clinic/cases/{scene.case_id()}/comments/{wrong['id']}/withdraw", token=doctor))
    accepted = ok(client.post("/api/exports", token=doctor, json={"caseId": scene.case_id()}), 202)
    assert _run_jobs(client) == ["ready"]
    r = client.get(f"/api/exports/{accepted['exportId']}/content", token=doctor)
    with zipfile.ZipFile(io.BytesIO(r.body)) as zf:
        bundle = json.loads(zf.read("fhir/bundle.json"))
    (document,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    text = base64.b64decode(document["content"][0]["attachment"]["data"]).decode()
    assert "Looks regular" in text and "It has not changed" in text
    assert "Meant for another patient" not in text


def test_a_clinics_export_holds_the_formats_it_chose_with_media_pointing_at_the_jpegs(scene, client):
    from shared_code.ports import CLINICS

    store = client.services.store
    clinic = store.read(CLINICS, scene.clinic["id"], scene.clinic["id"])
    clinic["exportFormats"] = "fhir-jpeg"
    store.replace(CLINICS, clinic, if_match=clinic["_etag"])
    folder = scene.folder("Mole")
    scene.photo(folder)
    scene.share(folder_ids=[folder])
    export = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)
    _run_jobs(client)
    reply = client.get(f"/api/exports/{export['exportId']}/content", token=scene.doctor.token)
    assert reply.status == 200
    with zipfile.ZipFile(io.BytesIO(reply.body)) as zf:
        names = zf.namelist()
        bundle = json.loads(zf.read("fhir/bundle.json"))
        (media,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Media"]
        assert zf.read(media["content"]["url"]).startswith(b"\xff\xd8")  # the JPEG file in the package
    assert not any(n.startswith("dicom/") for n in names) and "summary.pdf" in names
    assert not [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Binary"]


def test_an_export_downloads_in_parts(scene, client):
    folder = scene.folder("Mole")
    scene.photo(folder)
    scene.share(folder_ids=[folder])
    export = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)
    _run_jobs(client)
    url = f"/api/exports/{export['exportId']}/content"
    whole = client.get(url, token=scene.doctor.token).body
    first = client.get(url, token=scene.doctor.token, headers={"Range": "bytes=0-99"})
    rest = client.get(url, token=scene.doctor.token, headers={"Range": "bytes=100-"})
    assert (first.status, rest.status) == (206, 206)
    assert first.headers["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert first.body + rest.body == whole
