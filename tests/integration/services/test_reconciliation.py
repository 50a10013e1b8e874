"""The reconciliation timer (issue 13 item 4, issue 14 item 4): nothing stuck, nothing orphaned.

Real adapters (Azurite, SQLite, the local PEM KEK); the service is run directly (the timer function
itself: tests/functions/test_reconciliation.py). A clock offset stands in for the minutes between runs.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import pytest

from shared_code import bootstrap
from shared_code.ports import EXPORTS, IMAGES, LOOKUPS, PATIENTS, UPLOADS, DependencyUnavailable
from shared_code.services import exports, pending_work, processing, reconciliation
from tests.support.azurite import Azurite
from tests.support.functions_client import FunctionsClient
from tests.support.images import make_photo
from tests.support.library_helpers import add_ready_image, build_scene, create_folder, ok, patient_id, start_upload
from tests.support.real_services import blob_names, real_services

JPEG = make_photo(640, 480, seed=11, gps=False)
NO_GRACE = dataclasses.replace(reconciliation.DEFAULT_LIMITS, blob_grace=timedelta(0))


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    a = Azurite(tmp_path_factory.mktemp("azurite-reconciliation")).start()
    yield a
    a.close()


@pytest.fixture
def client(azurite, tmp_path):
    yield FunctionsClient(real_services(azurite, tmp_path))
    bootstrap.override(None)


@pytest.fixture
def patient(client):
    return client.token("patient-r", name="Robin Example")


def _later(client, minutes: float, limits: reconciliation.Limits = NO_GRACE) -> dict[str, int]:
    client.services.clock.advance(minutes=minutes)
    return reconciliation.run(client.services, limits)


def _image(client, pid: str, image_id: str) -> dict:
    return client.services.store.read(PATIENTS, pid, image_id)


# ----------------------------------------------------------------------------- uploads
def test_an_upload_a_metadata_outage_sent_to_poison_is_processed_again(client, azurite, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    image_id, pid = start_upload(client, patient, folder), patient_id(client, patient)
    client.services.blobs.put_encrypted(UPLOADS, f"{pid}/{image_id}", JPEG)
    client.services.store.fail_writes_after(0)
    for _ in range(5):  # the host's five attempts, all during the outage: then the poison queue
        with pytest.raises(DependencyUnavailable):
            processing.handle_upload(client.services, f"uploads/{pid}/{image_id}")
    client.services.store.heal()
    assert _image(client, pid, image_id)["status"] == "pending"

    assert _later(client, 30)["upload-redriven"] == 1

    assert _image(client, pid, image_id)["status"] == "ready"
    assert blob_names(azurite, UPLOADS, f"{pid}/") == []
    assert len(blob_names(azurite, IMAGES, f"{pid}/{image_id}/")) == 3


def test_a_pending_upload_whose_link_expired_without_a_photo_is_rejected(client, azurite, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    image_id = start_upload(client, patient, folder)

    assert _later(client, 30)["upload-expired"] == 1

    image = ok(client.get(f"/api/images/{image_id}", token=patient))
    assert image["status"] == "rejected"
    assert "expired" in image["rejectionReason"]


def test_an_upload_is_left_alone_while_its_link_may_still_be_used(client, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    image_id, pid = start_upload(client, patient, folder), patient_id(client, patient)

    counts = _later(client, 14)

    assert "upload-expired" not in counts
    assert _image(client, pid, image_id)["status"] == "pending"


def test_a_finished_upload_leaves_no_work_behind(client, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    add_ready_image(client, patient, folder)

    assert _later(client, 30)["upload-settled"] == 1
    assert pending_work.due(client.services.store, client.services.clock.now() + timedelta(days=365), 50) == []


# ----------------------------------------------------------------------------- exports
def test_an_export_stuck_in_the_queue_ends_failed_and_the_clinician_can_ask_again(client):
    scene = build_scene(client)
    scene.photo(scene.folder("Mole"))
    scene.share()
    export_id = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)["exportId"]
    # the build job never runs (its queue message went to poison)

    assert "export-failed" not in _later(client, 20)
    assert _later(client, 15)["export-failed"] == 1

    status = ok(client.get(f"/api/exports/{export_id}", token=scene.doctor.token))
    assert status["status"] == "failed"
    assert "request it again" in status["reason"]
    assert client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}).status == 202


# ----------------------------------------------------------------------------- blobs
def test_blobs_no_metadata_refers_to_are_deleted_once_past_the_grace_period(client, azurite):
    blobs = client.services.blobs
    blobs.put_encrypted(IMAGES, "pt-orphan000000000000000000/img-gone/original.jpg", b"x")
    blobs.put_encrypted(UPLOADS, "pt-orphan000000000000000000/img-gone", b"x")
    blobs.put_encrypted(EXPORTS, "pt-orphan000000000000000000/exp-gone.zip", b"x")
    blobs.put_encrypted(IMAGES, "not-ours/whatever.bin", b"x")

    reconciliation.run(client.services)  # default grace: they may be mid-write
    assert blob_names(azurite, IMAGES, "pt-orphan") != []

    counts = _later(client, 45, reconciliation.DEFAULT_LIMITS)

    assert counts["orphan-deleted"] >= 3
    for container in (IMAGES, UPLOADS, EXPORTS):
        assert blob_names(azurite, container, "pt-orphan") == [], container
    assert blob_names(azurite, IMAGES, "not-ours/") == ["not-ours/whatever.bin"]  # not named as ours: left alone


def test_the_sweep_walks_a_container_one_bounded_page_per_run(client, azurite):
    for i in range(5):
        client.services.blobs.put_encrypted(IMAGES, f"pt-paged00000000000000000/img-{i}/original.jpg", b"x")
    limits = dataclasses.replace(NO_GRACE, blobs_per_run=2)
    before = len(blob_names(azurite, IMAGES, ""))

    _later(client, 1, limits)
    assert len(blob_names(azurite, IMAGES, "")) >= before - 2
    for _ in range(before):
        _later(client, 1, limits)
    assert blob_names(azurite, IMAGES, "pt-paged") == []
    assert client.services.store.read(LOOKUPS, reconciliation.CURSORS, IMAGES)  # where the next run carries on


def test_a_missing_thumbnail_is_made_again_from_the_original(client, azurite, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    image_id, pid = add_ready_image(client, patient, folder), patient_id(client, patient)
    client.services.blobs.delete(IMAGES, f"{pid}/{image_id}/thumbnail.jpg")
    assert client.get(f"/api/images/{image_id}/content?size=thumbnail", token=patient).status != 200

    assert _later(client, 30)["renditions-regenerated"] == 1

    reply = client.get(f"/api/images/{image_id}/content?size=thumbnail", token=patient)
    assert reply.status == 200
    assert reply.body[:3] == b"\xff\xd8\xff"


def test_a_photo_whose_original_is_lost_is_marked_instead_of_shown_as_ready(client, azurite, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    image_id, pid = add_ready_image(client, patient, folder), patient_id(client, patient)
    client.services.blobs.delete(IMAGES, f"{pid}/{image_id}/original.jpg")

    assert _later(client, 30)["content-lost"] == 1

    image = ok(client.get(f"/api/images/{image_id}", token=patient))
    assert image["status"] == "rejected"
    assert "lost" in image["rejectionReason"]
    assert client.get(f"/api/images/{image_id}/content?size=preview", token=patient).status == 422


# ----------------------------------------------------------------------------- the run itself
def test_a_step_that_fails_is_postponed_and_finished_by_a_later_run(client, azurite, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    add_ready_image(client, patient, folder)
    pid = patient_id(client, patient)
    client.services.store.fail_writes_after(1)
    assert client.delete("/api/me", token=patient).status == 204  # recorded, not finished
    client.services.store.fail_writes_after(0)

    assert _later(client, 10)["postponed"] >= 1

    client.services.store.heal()
    assert _later(client, 10)["erasure-finished"] == 1
    assert blob_names(azurite, IMAGES, f"{pid}/") == []


def test_a_run_takes_a_bounded_number_of_work_items(client, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    for _ in range(5):
        start_upload(client, patient, folder)
    limits = dataclasses.replace(NO_GRACE, items_per_run=2)

    assert _later(client, 30, limits)["upload-expired"] == 2
    assert _later(client, 1, limits)["upload-expired"] == 2
    assert _later(client, 1, limits)["upload-expired"] == 1


def test_two_runs_at_once_do_the_work_once_and_fail_nothing(client, azurite, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    image_ids = [start_upload(client, patient, folder) for _ in range(3)]
    pid = patient_id(client, patient)
    client.services.clock.advance(minutes=30)
    results: list[dict] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(reconciliation.run(client.services, NO_GRACE))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert {_image(client, pid, i)["status"] for i in image_ids} == {"rejected"}


def test_an_export_package_past_its_download_time_is_deleted_by_the_sweep(client, azurite):
    scene = build_scene(client)
    scene.photo(scene.folder("Mole"))
    scene.share()
    export_id = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)["exportId"]

    assert exports.build(client.services, {"exportId": export_id, "patientId": scene.patient_id}) == "ready"
    assert blob_names(azurite, EXPORTS, f"{scene.patient_id}/") != []

    _later(client, 60)
    assert blob_names(azurite, EXPORTS, f"{scene.patient_id}/") != []  # still downloadable

    _later(client, client.services.settings.export_ttl_hours * 60)
    assert blob_names(azurite, EXPORTS, f"{scene.patient_id}/") == []


def test_a_ready_photo_with_no_file_left_at_all_is_marked_once_someone_tries_to_view_it(client, azurite, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    image_id, pid = add_ready_image(client, patient, folder), patient_id(client, patient)
    client.services.blobs.delete_prefix(IMAGES, f"{pid}/{image_id}/")  # no blob left for the sweep to find

    assert client.get(f"/api/images/{image_id}/content?size=preview", token=patient).status == 404

    assert _later(client, 5)["content-lost"] == 1
    assert ok(client.get(f"/api/images/{image_id}", token=patient))["status"] == "rejected"
