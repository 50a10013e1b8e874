"""EPR exports follow the share (issue 14 item 2), through the functions, Azurite and SQLite.

Seen in the attack run: a finished export stayed downloadable after the patient narrowed the
share or deleted a photo in it (200, with the deleted photo inside). Now the patient's action
ends the affected exports at once (package deleted), and status and download check again.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.ports import EXPORT_JOBS_QUEUE, EXPORTS, PATIENTS
from shared_code.services import exports
from shared_code.services.export_scope import export_blob_name
from tests.support.azurite import Azurite
from tests.support.encrypted_services import encrypted_services
from tests.support.functions_client import FunctionsClient
from tests.support.library_helpers import build_scene, ok


@pytest.fixture(scope="module")
def azurite():
    with Azurite() as server:
        yield server


@pytest.fixture
def client(tmp_path, azurite):
    return FunctionsClient(encrypted_services(tmp_path, azurite.connection_string, LocalKekProvider(tmp_path / "kek.pem")))


@pytest.fixture
def scene(client, request):
    return build_scene(client, patient_sub=f"exports-{request.node.name}"[:60])


def _export(client: FunctionsClient, scene, image_ids: list[str] | None = None) -> str:
    body: dict = {"caseId": scene.case_id()}
    if image_ids:
        body["imageIds"] = image_ids
    export_id = ok(client.post("/api/exports", token=scene.doctor.token, json=body), 202)["exportId"]
    assert [exports.build(client.services, job) for job in client.services.queue.take(EXPORT_JOBS_QUEUE)] == ["ready"]
    return export_id


def _stored(client: FunctionsClient, scene) -> list[str]:
    return [b.name for b in client.services.blobs.list(EXPORTS, scene.patient_id + "/")]


def _gone(client: FunctionsClient, scene, export_id: str) -> None:
    for path in (f"/api/exports/{export_id}", f"/api/exports/{export_id}/content"):
        r = client.get(path, token=scene.doctor.token)
        assert r.status == 410, (path, r.status, r.body[:300])
        assert r.content_type == "application/problem+json"
    assert _stored(client, scene) == []


def test_narrowing_the_share_ends_an_export_of_what_it_no_longer_covers(client, scene):
    kept, dropped = scene.folder("Mole on back"), scene.folder("Rash on arm")
    scene.photo(kept)
    scene.photo(dropped)
    scene.share()
    export_id = _export(client, scene)
    assert _stored(client, scene) == [export_blob_name(scene.patient_id, export_id)]

    client.services.clock.advance(minutes=5)
    scene.share(folder_ids=[kept])  # the patient narrows the share to one folder (the newer share wins)

    assert _stored(client, scene) == []  # at once, before anyone asks
    _gone(client, scene, export_id)


def test_narrowing_keeps_an_export_whose_photos_are_all_still_shared(client, scene):
    kept, dropped = scene.folder("Mole on back"), scene.folder("Rash on arm")
    photo = scene.photo(kept)
    scene.photo(dropped)
    scene.share()
    export_id = _export(client, scene, [photo])

    client.services.clock.advance(minutes=5)
    scene.share(folder_ids=[kept])

    assert ok(client.get(f"/api/exports/{export_id}", token=scene.doctor.token))["status"] == "ready"
    r = client.get(f"/api/exports/{export_id}/content", token=scene.doctor.token)
    assert r.status == 200 and zipfile.ZipFile(io.BytesIO(r.body)).testzip() is None


def test_deleting_a_photo_ends_the_export_that_holds_it(client, scene):
    folder = scene.folder("Leg ulcer")
    photos = [scene.photo(folder, seed=1), scene.photo(folder, seed=2)]
    scene.share()
    export_id = _export(client, scene)
    other_export = _export(client, scene, [photos[0]])

    assert client.delete(f"/api/images/{photos[1]}", token=scene.patient.token).status == 204

    assert [b.name for b in client.services.blobs.list(EXPORTS, scene.patient_id + "/")] == [export_blob_name(scene.patient_id, other_export)]
    for path in (f"/api/exports/{export_id}", f"/api/exports/{export_id}/content"):
        assert client.get(path, token=scene.doctor.token).status == 410
    assert client.get(f"/api/exports/{other_export}/content", token=scene.doctor.token).status == 200


def test_deleting_the_folder_ends_its_exports(client, scene):
    folder = scene.folder("Acne")
    scene.photo(folder)
    scene.share()
    export_id = _export(client, scene)

    assert client.delete(f"/api/folders/{folder}", token=scene.patient.token).status == 204

    _gone(client, scene, export_id)


def test_revoking_the_share_deletes_the_package_at_once(client, scene):
    folder = scene.folder("Psoriasis")
    scene.photo(folder)
    share = scene.share()
    export_id = _export(client, scene)

    ok(client.delete(f"/api/shares/{share['id']}", token=scene.patient.token))

    assert _stored(client, scene) == []
    for path in (f"/api/exports/{export_id}", f"/api/exports/{export_id}/content"):
        assert client.get(path, token=scene.doctor.token).status == 404  # not theirs to see any more
    doc = client.services.store.read(PATIENTS, scene.patient_id, export_id)
    assert doc["status"] == "withdrawn"


def test_status_and_download_check_the_photos_again(client, scene):
    # a photo that went without the patient's action reaching the export (e.g. a delete that
    # raced with the job): the next status request finds it, deletes the package and answers 410
    folder = scene.folder("Scar")
    photos = [scene.photo(folder, seed=1), scene.photo(folder, seed=2)]
    scene.share()
    export_id = _export(client, scene)
    client.services.store.delete(PATIENTS, scene.patient_id, photos[0])

    assert client.get(f"/api/exports/{export_id}", token=scene.doctor.token).status == 410
    _gone(client, scene, export_id)


def test_an_export_withdrawn_while_it_was_queued_is_never_built(client, scene):
    folder = scene.folder("Eczema")
    photo = scene.photo(folder)
    scene.share()
    export_id = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)["exportId"]

    assert client.delete(f"/api/images/{photo}", token=scene.patient.token).status == 204
    assert [exports.build(client.services, job) for job in client.services.queue.take(EXPORT_JOBS_QUEUE)] == ["withdrawn"]

    assert _stored(client, scene) == []
    assert client.get(f"/api/exports/{export_id}", token=scene.doctor.token).status == 410
