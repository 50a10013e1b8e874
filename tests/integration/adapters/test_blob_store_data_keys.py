"""AzureBlobStore with per-patient data keys, against Azurite: which key wraps, who may unwrap."""

from __future__ import annotations

import json

import pytest
from azure.storage.blob import BlobServiceClient

from shared_code.adapters.blob_store import AzureBlobStore
from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.adapters.patient_keys import PatientKeyRing
from shared_code.ports import EXPORTS, IMAGES, UPLOADS, EncryptionRejected
from tests.fakes.store import FakeMetadataStore
from tests.support.azurite import Azurite

ALICE, BOB = "pt-" + "a" * 24, "pt-" + "b" * 24
PHOTO = b"\xff\xd8" + bytes(range(256)) * 40


@pytest.fixture(scope="module")
def azurite():
    with Azurite() as server:
        yield server


@pytest.fixture(scope="module")
def kek(tmp_path_factory):
    return LocalKekProvider(tmp_path_factory.mktemp("kek") / "kek.pem")


@pytest.fixture(scope="module")
def ring(kek):
    return PatientKeyRing(FakeMetadataStore(), kek)


@pytest.fixture(scope="module")
def store(azurite, kek, ring):
    blobs = AzureBlobStore.from_connection_string(azurite.connection_string, kek, data_keys=ring)
    blobs.ensure_containers()
    return blobs


@pytest.fixture(scope="module")
def legacy(azurite, kek):
    """The same account without data keys: how blobs were written before."""
    return AzureBlobStore.from_connection_string(azurite.connection_string, kek)


@pytest.fixture(scope="module")
def raw(azurite):
    return BlobServiceClient.from_connection_string(azurite.connection_string)


def _wrapped(raw: BlobServiceClient, container: str, name: str) -> dict:
    return json.loads(raw.get_blob_client(container, name).get_blob_properties().metadata["encryptiondata"])["WrappedContentKey"]


def _copy(raw: BlobServiceClient, source: tuple[str, str], target: tuple[str, str]) -> None:
    blob = raw.get_blob_client(*source)
    data, metadata = blob.download_blob().readall(), blob.get_blob_properties().metadata
    raw.get_blob_client(*target).upload_blob(data, metadata=metadata, overwrite=True)


def _rejection(store: AzureBlobStore, container: str, name: str) -> str:
    with pytest.raises(EncryptionRejected) as err:
        b"".join(store.read_decrypted(container, name))
    return err.value.reason_code


def test_a_patients_blobs_are_wrapped_by_their_data_key(store, raw, ring):
    for container, name in ((IMAGES, f"{ALICE}/img-1/thumbnail.jpg"), (EXPORTS, f"{ALICE}/exp-1.zip")):
        store.put_encrypted(container, name, PHOTO)
        wrapped = _wrapped(raw, container, name)
        assert wrapped["Algorithm"] == "A256KW"
        assert wrapped["KeyId"] == ring.wrapping_key(ALICE).get_kid()
        assert b"".join(store.read_decrypted(container, name)) == PHOTO


def test_any_v2_client_decrypts_them_given_the_data_key(store, raw, ring):
    name = f"{ALICE}/img-2/original.jpg"
    store.put_encrypted(IMAGES, name, PHOTO)
    blob = raw.get_blob_client(IMAGES, name)
    blob.require_encryption, blob.encryption_version = True, "2.0"
    blob.key_resolver_function = ring.resolve
    assert blob.download_blob().readall() == PHOTO


def test_uploads_and_non_patient_blobs_stay_wrapped_by_the_kek(store, raw, kek):
    for container, name in ((UPLOADS, f"{ALICE}/img-3"), (IMAGES, "fixtures/sample")):
        store.put_encrypted(container, name, PHOTO)
        wrapped = _wrapped(raw, container, name)
        assert (wrapped["Algorithm"], wrapped["KeyId"]) == ("RSA-OAEP-256", kek.current().get_kid())
        assert b"".join(store.read_decrypted(container, name)) == PHOTO


def test_a_patients_blob_moved_under_another_patient_is_refused(store, raw):
    store.put_encrypted(IMAGES, f"{ALICE}/img-4/original.jpg", PHOTO)
    store.put_encrypted(IMAGES, f"{BOB}/img-5/original.jpg", PHOTO)  # Bob has a data key too
    _copy(raw, (IMAGES, f"{ALICE}/img-4/original.jpg"), (IMAGES, f"{BOB}/img-4/original.jpg"))
    assert _rejection(store, IMAGES, f"{BOB}/img-4/original.jpg") == "foreign-key"


def test_a_data_key_blob_in_uploads_is_refused(store, raw):
    store.put_encrypted(IMAGES, f"{ALICE}/img-6/original.jpg", PHOTO)
    _copy(raw, (IMAGES, f"{ALICE}/img-6/original.jpg"), (UPLOADS, f"{ALICE}/img-6"))
    assert _rejection(store, UPLOADS, f"{ALICE}/img-6") == "foreign-key"


def test_a_data_key_kid_with_another_version_is_refused(store, raw):
    name = f"{ALICE}/img-7/original.jpg"
    store.put_encrypted(IMAGES, name, PHOTO)
    blob = raw.get_blob_client(IMAGES, name)
    metadata = blob.get_blob_properties().metadata
    envelope = json.loads(metadata["encryptiondata"])
    kid = envelope["WrappedContentKey"]["KeyId"]
    envelope["WrappedContentKey"]["KeyId"] = kid[:-1] + ("1" if kid.endswith("0") else "0")
    blob.set_blob_metadata({**metadata, "encryptiondata": json.dumps(envelope)})
    assert _rejection(store, IMAGES, name) == "foreign-key"


def test_rewrapping_moves_a_kek_wrapped_blob_to_the_data_key_and_keeps_the_rest(store, legacy, raw, ring, kek):
    name = f"{BOB}/img-8/original.jpg"
    legacy.put_encrypted(IMAGES, name, PHOTO, metadata={"source": "phone"})
    before = raw.get_blob_client(IMAGES, name).download_blob().readall()
    assert _wrapped(raw, IMAGES, name)["KeyId"] == kek.current().get_kid()
    assert b"".join(store.read_decrypted(IMAGES, name)) == PHOTO  # the old kid still reads

    assert store.rewrap_content_key(IMAGES, name) is True
    assert store.rewrap_content_key(IMAGES, name) is False

    wrapped = _wrapped(raw, IMAGES, name)
    assert (wrapped["KeyId"], wrapped["Algorithm"]) == (ring.wrapping_key(BOB).get_kid(), "A256KW")
    assert raw.get_blob_client(IMAGES, name).download_blob().readall() == before  # ciphertext untouched
    assert store.info(IMAGES, name).metadata == {"source": "phone"}
    assert b"".join(store.read_decrypted(IMAGES, name)) == PHOTO


def test_rewrapping_leaves_uploads_and_non_patient_blobs_alone(store, legacy):
    legacy.put_encrypted(UPLOADS, f"{BOB}/img-9", PHOTO)
    legacy.put_encrypted(IMAGES, "fixtures/other", PHOTO)
    assert store.rewrap_content_key(UPLOADS, f"{BOB}/img-9") is False
    assert store.rewrap_content_key(IMAGES, "fixtures/other") is False
    assert legacy.rewrap_content_key(IMAGES, f"{BOB}/img-9/x.jpg") is False  # no data keys configured
