"""The key hierarchy through the functions, Azurite, SQLite and a real KEK (issue 14 item 1).

Key Vault budget: a clinician's page of 50 thumbnails costs at most one unwrap at the vault.
Crypto-shredding: after "Delete my account" no blob of that patient decrypts, even restored from
a backup and even holding the KEK. Old blobs wrapped by the KEK still read; migration and KEK
rotation rewrap what they should and nothing else.
"""

from __future__ import annotations

import base64
import json

import pytest
from azure.storage.blob import BlobServiceClient

from shared_code.adapters.keyvault_kek import KeyVaultKekProvider
from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.adapters.patient_keys import DATA_KEY_DOC_ID
from shared_code.ports import EXPORT_JOBS_QUEUE, EXPORTS, IMAGES, PATIENTS, EncryptionRejected, NotFound
from shared_code.services import exports, keys
from shared_code.services.library import image_blob_name
from tests.support.azurite import Azurite
from tests.support.encrypted_services import another_worker, encrypted_services
from tests.support.fake_keyvault import FakeKeyVault, StaticTokenCredential
from tests.support.functions_client import FunctionsClient
from tests.support.library_helpers import build_scene, ok

KEY_NAME = "skinvault-kek"


@pytest.fixture(scope="module")
def azurite():
    with Azurite() as server:
        yield server


@pytest.fixture(scope="module")
def raw(azurite):
    """A plain SDK client (no encryption): what an attacker with a backup would hold."""
    return BlobServiceClient.from_connection_string(azurite.connection_string)


@pytest.fixture(scope="module")
def vault():
    with FakeKeyVault() as server:
        server.create_key(KEY_NAME)
        yield server


def _vault_kek(vault: FakeKeyVault, **kw) -> KeyVaultKekProvider:
    return KeyVaultKekProvider(vault.vault_url, KEY_NAME, StaticTokenCredential(), **vault.client_kwargs(), **kw)


@pytest.fixture
def local_kek(tmp_path):
    return LocalKekProvider(tmp_path / "kek.pem")


@pytest.fixture(params=["local-pem", "key-vault"])
def make_kek(request, tmp_path, vault):
    """A factory of KEK providers over one key (each call: a new provider with cold caches), and
    the kids of every version of that key."""
    if request.param == "local-pem":
        return lambda: LocalKekProvider(tmp_path / "kek.pem"), lambda kek: [f"local:kek/{v}" for v in kek.versions()]
    return lambda: _vault_kek(vault), lambda kek: [vault.kid(KEY_NAME, v) for v in vault.versions(KEY_NAME)]


def _envelope(raw: BlobServiceClient, container: str, name: str) -> dict:
    return json.loads(raw.get_blob_client(container, name).get_blob_properties().metadata["encryptiondata"])


def _patient_blobs(raw: BlobServiceClient, patient_id: str) -> list[tuple[str, str]]:
    return [(c, b.name) for c in (IMAGES, EXPORTS) for b in raw.get_container_client(c).list_blobs(name_starts_with=patient_id + "/")]


def _thumbnails(client: FunctionsClient, token: str, image_ids: list[str]) -> list[bytes]:
    bodies = []
    for image_id in image_ids:
        r = client.get(f"/api/images/{image_id}/content?size=thumbnail", token=token)
        assert r.status == 200, (r.status, r.body[:300])
        bodies.append(r.body)
    return bodies


def _build_export(client: FunctionsClient, scene) -> str:
    accepted = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)
    assert [exports.build(client.services, job) for job in client.services.queue.take(EXPORT_JOBS_QUEUE)] == ["ready"]
    return accepted["exportId"]


def test_a_clinicians_page_of_50_thumbnails_costs_at_most_one_key_vault_unwrap(tmp_path, azurite, raw, vault):
    uploader = encrypted_services(tmp_path, azurite.connection_string, _vault_kek(vault))
    client = FunctionsClient(uploader)
    scene = build_scene(client, patient_sub="kv-page-patient")
    folder = scene.folder("Leg ulcer")
    image_ids = [scene.photo(folder, seed=n) for n in range(50)]
    scene.share()

    envelope = _envelope(raw, IMAGES, image_blob_name(scene.patient_id, image_ids[0], "thumbnail"))
    assert envelope["WrappedContentKey"]["Algorithm"] == "A256KW"
    assert envelope["WrappedContentKey"]["KeyId"].startswith(f"patient-key:{scene.patient_id}/")

    # the clinician's request lands on another worker, whose caches are cold
    viewer = FunctionsClient(another_worker(uploader, azurite.connection_string, _vault_kek(vault)))
    before = dict(vault.counts)
    thumbnails = _thumbnails(viewer, scene.doctor.token, image_ids)
    assert len(thumbnails) == 50 and all(t.startswith(b"\xff\xd8") for t in thumbnails)
    assert vault.counts["unwrapkey"] - before["unwrapkey"] <= 1
    assert vault.counts["wrapkey"] == before["wrapkey"]

    # the patient's own page on that worker costs nothing more
    _thumbnails(viewer, scene.patient.token, image_ids[:10])
    assert vault.counts["unwrapkey"] - before["unwrapkey"] <= 1


def test_after_erasure_no_blob_of_the_patient_decrypts_even_with_the_kek(tmp_path, azurite, raw, make_kek, request):
    new_kek, every_version = make_kek
    kek = new_kek()
    services = encrypted_services(tmp_path, azurite.connection_string, kek)
    client = FunctionsClient(services)
    sub = f"erased-{request.node.callspec.id}"
    scene = build_scene(client, patient_sub=sub)
    folder = scene.folder("Mole on back")
    image_ids = [scene.photo(folder, seed=n) for n in range(2)]
    scene.share()
    _build_export(client, scene)
    # what soft delete, versioning or a backup keeps: ciphertext and metadata, byte for byte
    backup = {}
    for container, name in _patient_blobs(raw, scene.patient_id):
        blob = raw.get_blob_client(container, name)
        backup[(container, name)] = (blob.download_blob().readall(), blob.get_blob_properties().metadata)
    assert len(backup) == 2 * 3 + 1

    assert client.delete("/api/me", token=scene.patient.token).status == 204
    with pytest.raises(NotFound):
        services.store.read(PATIENTS, scene.patient_id, DATA_KEY_DOC_ID)
    assert _patient_blobs(raw, scene.patient_id) == []

    for (container, name), (ciphertext, metadata) in backup.items():  # restored from the backup
        raw.get_blob_client(container, name).upload_blob(ciphertext, metadata=metadata, overwrite=True)
    fresh_worker = another_worker(services, azurite.connection_string, new_kek())
    for container, name in backup:
        for worker in (services, fresh_worker):
            with pytest.raises(EncryptionRejected) as err:
                b"".join(worker.blobs.read_decrypted(container, name))
            assert err.value.reason_code == "foreign-key"
        # holding the KEK (every version of it) does not open the content key either
        wrapped = _envelope(raw, container, name)["WrappedContentKey"]
        assert wrapped["Algorithm"] == "A256KW"
        for kid in every_version(kek):
            with pytest.raises(EncryptionRejected):
                kek.resolve(kid).unwrap_key(base64.b64decode(wrapped["EncryptedKey"]), "RSA-OAEP-256")
    # and the patient signing up again gets a new key that opens none of it
    again = build_scene(client, patient_sub=sub, clinic_name="Another Clinic")
    assert again.patient_id == scene.patient_id
    new_folder = again.folder("New start")
    again.photo(new_folder)
    with pytest.raises(EncryptionRejected):
        b"".join(services.blobs.read_decrypted(IMAGES, image_blob_name(scene.patient_id, image_ids[0], "original")))


def test_blobs_wrapped_by_the_kek_before_data_keys_still_read_and_migrate(tmp_path, azurite, raw, local_kek):
    legacy = encrypted_services(tmp_path, azurite.connection_string, local_kek, data_keys=False)
    legacy_client = FunctionsClient(legacy)
    scene = build_scene(legacy_client, patient_sub="legacy-patient")
    folder = scene.folder("Psoriasis")
    image_ids = [scene.photo(folder, seed=n) for n in range(2)]
    scene.share()
    export_id = _build_export(legacy_client, scene)
    names = _patient_blobs(raw, scene.patient_id)
    assert {_envelope(raw, c, n)["WrappedContentKey"]["KeyId"] for c, n in names} == {local_kek.current().get_kid()}
    before = _thumbnails(legacy_client, scene.doctor.token, image_ids)

    upgraded = another_worker(legacy, azurite.connection_string, local_kek)
    client = FunctionsClient(upgraded)
    assert _thumbnails(client, scene.doctor.token, image_ids) == before  # read by the kid in their metadata

    report = keys.migrate_blobs(upgraded, ops_per_second=0)
    assert report.rewrapped == len(names) and report.failed == 0
    for container, name in names:
        wrapped = _envelope(raw, container, name)["WrappedContentKey"]
        assert wrapped["KeyId"].startswith(f"patient-key:{scene.patient_id}/") and wrapped["Algorithm"] == "A256KW"
    assert _thumbnails(client, scene.doctor.token, image_ids) == before
    assert client.get(f"/api/exports/{export_id}/content", token=scene.doctor.token).status == 200
    assert keys.migrate_blobs(upgraded, ops_per_second=0).rewrapped == 0  # idempotent

    # migrated blobs are shredded with the rest
    assert client.delete("/api/me", token=scene.patient.token).status == 204


def test_the_migration_command_runs_on_the_apps_settings(tmp_path, azurite, raw, local_kek, monkeypatch, capsys):
    from scripts import rewrap_keys
    from shared_code import bootstrap

    legacy = encrypted_services(tmp_path, azurite.connection_string, local_kek, data_keys=False)
    scene = build_scene(FunctionsClient(legacy), patient_sub="command-patient")
    scene.photo(scene.folder("Scar"))
    for name, value in {
        "STORAGE": azurite.connection_string,
        "UPLOADS_STORAGE": azurite.connection_string,
        "SQLITE_PATH": str(tmp_path / "skinvault.db"),
        "KEK_PEM_PATH": str(tmp_path / "kek.pem"),
        "DEV_ISSUER_KEY_PATH": str(tmp_path / "dev-issuer.pem"),
    }.items():
        monkeypatch.setenv(name, value)
    bootstrap.override(None)
    try:
        assert rewrap_keys.main(["migrate", "--settings", str(tmp_path / "absent.json"), "--ops-per-second", "0"]) == 0
        assert rewrap_keys.main(["rotate", "--settings", str(tmp_path / "absent.json")]) == 0
    finally:
        bootstrap.override(None)
    out = capsys.readouterr().out
    assert "blobs rewrapped under patient data keys: 3," in out and "patient data keys rewrapped: 0," in out
    assert scene.patient_id not in out
    for container, name in _patient_blobs(raw, scene.patient_id):
        assert _envelope(raw, container, name)["WrappedContentKey"]["Algorithm"] == "A256KW"


def test_kek_rotation_rewraps_patient_keys_only(tmp_path, azurite, raw, vault):
    kek = _vault_kek(vault, current_ttl_seconds=0)
    services = encrypted_services(tmp_path, azurite.connection_string, kek)
    client = FunctionsClient(services)
    scene = build_scene(client, patient_sub="rotation-patient")
    folder = scene.folder("Acne")
    image_ids = [scene.photo(folder, seed=n) for n in range(3)]
    scene.share()
    before = _thumbnails(client, scene.doctor.token, image_ids)
    blobs_before = {(c, n): raw.get_blob_client(c, n).get_blob_properties().etag for c, n in _patient_blobs(raw, scene.patient_id)}
    old_kid = services.store.read(PATIENTS, scene.patient_id, DATA_KEY_DOC_ID)["kekKid"]

    new_kid = vault.create_key(KEY_NAME)  # ops rotate the Key Vault key
    unwraps = vault.counts["unwrapkey"]
    report = keys.rotate_patient_keys(services)
    assert report.rewrapped >= 1 and vault.counts["unwrapkey"] - unwraps == report.rewrapped
    assert old_kid != new_kid == services.store.read(PATIENTS, scene.patient_id, DATA_KEY_DOC_ID)["kekKid"]
    assert keys.rotate_patient_keys(services).rewrapped == 0

    # not one blob was touched, and a cold worker reads them through the rewrapped key
    assert {(c, n): raw.get_blob_client(c, n).get_blob_properties().etag for c, n in _patient_blobs(raw, scene.patient_id)} == blobs_before
    viewer = FunctionsClient(another_worker(services, azurite.connection_string, _vault_kek(vault)))
    assert _thumbnails(viewer, scene.doctor.token, image_ids) == before
