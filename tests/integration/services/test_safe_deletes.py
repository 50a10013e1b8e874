"""Deletes, erasure and processing under faults and races (issue 13 items 3-4, issue 14 items 3-4).

Real adapters: Azurite, SQLite, the local PEM KEK. Faults are injected at the port boundary around
the real store (FaultyStore: writes refused from the n-th on, as a read-only database refuses
them); races are staged by running the competing request at the moment the first one reaches a
given port call. The reconciliation timer is run directly (services/reconciliation.py).
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest
from azure.storage.blob import BlobClient, BlobLeaseClient

from shared_code import bootstrap
from shared_code.ports import IMAGES, PATIENTS, UPLOADS, DependencyUnavailable, NotFound
from shared_code.services import processing, reconciliation
from skinvault_client.encryption import upload_encrypted
from tests.support.azurite import Azurite
from tests.support.functions_client import FunctionsClient
from tests.support.images import make_photo
from tests.support.library_helpers import add_ready_image, create_folder, ok, patient_id, start_upload
from tests.support.real_services import blob_names, real_services

JPEG = make_photo(640, 480, seed=7, gps=False)


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    a = Azurite(tmp_path_factory.mktemp("azurite-deletes")).start()
    yield a
    a.close()


@pytest.fixture
def client(azurite, tmp_path):
    yield FunctionsClient(real_services(azurite, tmp_path))
    bootstrap.override(None)


@pytest.fixture
def patient(client):
    return client.token(f"p-{uuid.uuid4().hex[:8]}")


def _blobs(azurite, container: str, prefix: str) -> list[str]:
    return blob_names(azurite, container, prefix)


def _reconcile_later(client, minutes: float = 45) -> dict[str, int]:
    client.services.clock.advance(minutes=minutes)
    return reconciliation.run(client.services, dataclasses.replace(reconciliation.DEFAULT_LIMITS, blob_grace=timedelta(0)))


def _photo_state(client, token, image_id) -> str:
    """'whole' (metadata and every rendition readable), 'gone' (404) or what is wrong."""
    reply = client.get(f"/api/images/{image_id}", token=token)
    if reply.status == 404:
        return "gone"
    for size in ("thumbnail", "preview", "original"):
        if client.get(f"/api/images/{image_id}/content?size={size}", token=token).status != 200:
            return f"ready but its {size} is unreadable"
    return "whole"


# ----------------------------------------------------------------------------- deletes (13.3)
@pytest.mark.parametrize("writes_before_failure", [0, 1, 2, 3])
def test_a_photo_delete_that_fails_half_way_leaves_it_whole_or_gone_and_the_timer_removes_every_blob(client, azurite, patient, writes_before_failure):
    folder = create_folder(client, patient, "Mole")["id"]
    image_id = add_ready_image(client, patient, folder)
    pid = patient_id(client, patient)
    client.services.store.fail_writes_after(writes_before_failure)

    reply = client.delete(f"/api/images/{image_id}", token=patient)
    client.services.store.heal()

    if reply.status == 503:
        assert _photo_state(client, patient, image_id) == "whole"  # "nothing was lost" is true
    else:
        assert reply.status == 204
        assert _photo_state(client, patient, image_id) == "gone"
        _reconcile_later(client)
        assert _blobs(azurite, IMAGES, f"{pid}/{image_id}/") == []


@pytest.mark.parametrize("writes_before_failure", [0, 1, 2, 3, 4])
def test_a_folder_delete_that_fails_half_way_leaves_it_whole_or_gone_and_the_timer_finishes_it(client, azurite, patient, writes_before_failure):
    folder = create_folder(client, patient, "Leg ulcer")["id"]
    images = [add_ready_image(client, patient, folder, seed=i) for i in range(2)]
    pid = patient_id(client, patient)
    client.services.store.fail_writes_after(writes_before_failure)

    reply = client.delete(f"/api/folders/{folder}", token=patient)
    client.services.store.heal()

    if reply.status == 503:
        assert client.get(f"/api/folders/{folder}", token=patient).status == 200
        assert [_photo_state(client, patient, i) for i in images] == ["whole", "whole"]
        return
    assert reply.status == 204
    assert client.get(f"/api/folders/{folder}", token=patient).status == 404
    _reconcile_later(client)
    assert [_photo_state(client, patient, i) for i in images] == ["gone", "gone"]
    assert _blobs(azurite, IMAGES, f"{pid}/") == []


def test_a_photo_delete_that_cannot_write_at_all_is_an_honest_503(client, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    image_id = add_ready_image(client, patient, folder)
    client.services.store.fail_writes_after(0)

    assert client.delete(f"/api/images/{image_id}", token=patient).status == 503

    client.services.store.heal()
    assert _photo_state(client, patient, image_id) == "whole"
    _reconcile_later(client)  # the timer does not delete what the patient was told was kept
    assert _photo_state(client, patient, image_id) == "whole"


# ----------------------------------------------------------------------------- erasure (14.3)
def test_erasure_that_fails_half_way_answers_204_then_404_and_the_timer_finishes_it(client, azurite, patient):
    folder = create_folder(client, patient, "Psoriasis")["id"]
    image_id = add_ready_image(client, patient, folder)
    pid = patient_id(client, patient)
    client.services.store.fail_writes_after(1)  # the erasure job is recorded, then the store goes read-only

    assert client.delete("/api/me", token=patient).status == 204
    client.services.store.heal()

    for url in ("/api/me", "/api/folders", f"/api/folders/{folder}", f"/api/images/{image_id}", "/api/audit"):
        assert client.get(url, token=patient).status == 404, url
    assert _blobs(azurite, IMAGES, f"{pid}/") != []  # not finished yet...
    assert _reconcile_later(client)["erasure-finished"] == 1
    assert _blobs(azurite, IMAGES, f"{pid}/") == []  # ...until the timer ran
    assert client.services.store.real.query(PATIENTS, pid).items == []
    assert ok(client.get("/api/folders", token=patient))["items"] == []  # a fresh, empty account


def test_erasure_while_someone_holds_a_lease_on_an_upload_finishes_at_once(client, azurite, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    add_ready_image(client, patient, folder)
    session = ok(client.post(f"/api/folders/{folder}/uploads", token=patient, json={"contentType": "image/jpeg", "sizeBytes": 1000}), 201)
    upload_encrypted(session["uploadUrl"], JPEG, session["encryption"]["jwk"])
    BlobLeaseClient(BlobClient.from_blob_url(session["uploadUrl"])).acquire(lease_duration=-1)
    pid = patient_id(client, patient)

    assert client.delete("/api/me", token=patient).status == 204

    assert _blobs(azurite, UPLOADS, f"{pid}/") == []
    assert _blobs(azurite, IMAGES, f"{pid}/") == []
    assert ok(client.get("/api/folders", token=patient))["items"] == []


# ----------------------------------------------------------------------------- leases in processing (14.3)
def test_an_upload_under_a_lease_is_rejected_with_a_plain_reason_and_nothing_stays_pending(client, azurite, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    session = ok(client.post(f"/api/folders/{folder}/uploads", token=patient, json={"contentType": "image/jpeg", "sizeBytes": 1000}), 201)
    upload_encrypted(session["uploadUrl"], JPEG, session["encryption"]["jwk"])
    BlobLeaseClient(BlobClient.from_blob_url(session["uploadUrl"])).acquire(lease_duration=-1)
    pid, image_id = patient_id(client, patient), session["uploadId"]

    assert processing.handle_upload(client.services, f"uploads/{pid}/{image_id}") == "rejected"

    image = ok(client.get(f"/api/images/{image_id}", token=patient))
    assert image["status"] == "rejected"
    assert "locked" in image["rejectionReason"]
    assert _blobs(azurite, UPLOADS, f"{pid}/") == []
    assert _blobs(azurite, IMAGES, f"{pid}/") == []


# ----------------------------------------------------------------------------- races (13.4, 14.4)
class _OnFirstPut:
    """A BlobStore (the real one) that runs `action` once, when processing stores its first rendition."""

    def __init__(self, real: Any, action) -> None:
        self.real, self.action, self.fired = real, action, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def put_encrypted(self, container: str, name: str, data: Any, **kw: Any) -> Any:
        info = self.real.put_encrypted(container, name, data, **kw)
        if container == IMAGES and not self.fired:
            self.fired = True
            self.action()
        return info


def _upload_then_process_while(client, patient, folder, action) -> tuple[str, str, str]:
    image_id = start_upload(client, patient, folder)
    pid = patient_id(client, patient)
    client.services.blobs.put_encrypted(UPLOADS, f"{pid}/{image_id}", JPEG)
    real_blobs = client.services.blobs
    client.services.blobs = _OnFirstPut(real_blobs, action)
    try:
        status = processing.handle_upload(client.services, f"uploads/{pid}/{image_id}")
    finally:
        client.services.blobs = real_blobs
    return pid, image_id, status


@pytest.mark.parametrize("what", ["photo", "folder", "account"])
def test_deleting_while_the_upload_is_processed_leaves_no_rendition_behind(client, azurite, patient, what):
    folder = create_folder(client, patient, "Mole")["id"]
    urls = {"folder": f"/api/folders/{folder}", "account": "/api/me"}

    def delete_now() -> None:
        image_id = client.services.store.query(PATIENTS, patient_id(client, patient), where={"type": "image"}).items[0]["id"]
        url = urls.get(what, f"/api/images/{image_id}")
        assert client.delete(url, token=patient).status == 204

    pid, image_id, status = _upload_then_process_while(client, patient, folder, delete_now)

    assert status == "ignored"
    assert _blobs(azurite, IMAGES, f"{pid}/") == []
    assert _blobs(azurite, UPLOADS, f"{pid}/") == []
    with pytest.raises(NotFound):
        client.services.store.real.read(PATIENTS, pid, image_id)


def test_a_folder_deleted_while_an_upload_session_is_opened_gets_no_photo(client, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    store = client.services.store
    real_create = store.real.create

    def create(container, doc):  # the folder goes between the folder check and the photo's write
        if doc.get("id", "").startswith("img:"):
            assert client.delete(f"/api/folders/{folder}", token=patient).status == 204
        return real_create(container, doc)

    store.real.create = create
    try:
        reply = client.post(f"/api/folders/{folder}/uploads", token=patient, json={"contentType": "image/jpeg", "sizeBytes": 1000})
    finally:
        del store.real.create

    assert reply.status == 404
    pid = patient_id(client, patient)
    assert store.real.query(PATIENTS, pid, where={"type": "image"}).items == []


def test_a_photo_whose_folder_is_gone_is_removed_when_it_is_processed(client, azurite, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    image_id = start_upload(client, patient, folder)
    pid = patient_id(client, patient)
    client.services.blobs.put_encrypted(UPLOADS, f"{pid}/{image_id}", JPEG)
    client.services.store.real.delete(PATIENTS, pid, folder)  # as the race in old code left it

    assert processing.handle_upload(client.services, f"uploads/{pid}/{image_id}") == "ignored"

    assert client.get(f"/api/images/{image_id}", token=patient).status == 404
    assert _blobs(azurite, IMAGES, f"{pid}/") == []
    assert _blobs(azurite, UPLOADS, f"{pid}/") == []


def test_processing_that_cannot_write_the_outcome_raises_so_the_host_retries(client, patient):
    folder = create_folder(client, patient, "Mole")["id"]
    image_id = start_upload(client, patient, folder)
    pid = patient_id(client, patient)
    client.services.blobs.put_encrypted(UPLOADS, f"{pid}/{image_id}", JPEG)
    client.services.store.fail_writes_after(0)

    with pytest.raises(DependencyUnavailable):
        processing.handle_upload(client.services, f"uploads/{pid}/{image_id}")
