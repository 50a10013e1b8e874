"""Every way an upload can be unacceptable ends the same way: rejected with a reason a patient
understands, the upload blob deleted, and nothing decrypted kept. Real adapters: Azurite, the local
PEM KEK, SQLite; the phone side is azure-storage-blob's own client-side encryption."""

from __future__ import annotations

import json

import pytest
from azure.storage.blob import BlobClient, BlobServiceClient
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared_code.auth.principal import PATIENT, Principal
from shared_code.ports import IMAGES, PATIENTS, UPLOADS
from shared_code.services import library, processing
from skinvault_client.encryption import PublicJwkKek, upload_encrypted
from tests.support.azurite import Azurite
from tests.support.images import make_bomb_png, make_photo
from tests.support.real_services import azurite_services

REGION = 4 * 1024 * 1024
JPEG = make_photo(640, 480, seed=41)


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    a = Azurite(tmp_path_factory.mktemp("azurite-rejections")).start()
    yield a
    a.close()


@pytest.fixture(scope="module")
def services(azurite, tmp_path_factory):
    return azurite_services(azurite, tmp_path_factory.mktemp("rejections"), MAX_UPLOAD_BYTES=str(10 * 1024 * 1024))


@pytest.fixture
def upload(services):
    """A fresh pending upload session for a new patient: (patient id, image id, url, jwk)."""
    import uuid

    user = Principal(kind=PATIENT, sub=f"p-{uuid.uuid4().hex[:8]}", issuer="test")
    folder = library.create_folder(services, user, {"name": "Rash"})
    session = library.start_upload(services, user, folder["id"], {"contentType": "image/jpeg", "sizeBytes": 1000})
    return user.patient_id, session["uploadId"], session["uploadUrl"], session["encryption"]["jwk"]


def _account(azurite) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(azurite.connection_string)


def _process_and_check(services, azurite, upload, reason_words: tuple[str, ...]) -> dict:
    patient_id, image_id, _, _ = upload
    assert processing.handle_upload(services, f"uploads/{patient_id}/{image_id}") == "rejected"
    image = services.store.read(PATIENTS, patient_id, image_id)
    assert image["status"] == "rejected"
    assert any(w in image["rejectionReason"].lower() for w in reason_words), image["rejectionReason"]
    account = _account(azurite)
    assert not list(account.get_container_client(UPLOADS).list_blobs(name_starts_with=f"{patient_id}/"))
    assert not list(account.get_container_client(IMAGES).list_blobs(name_starts_with=f"{patient_id}/"))
    return image


def _rewrite(azurite, patient_id: str, image_id: str, mutate) -> None:
    """Replace the stored ciphertext/metadata as an attacker with storage access could."""
    blob = _account(azurite).get_blob_client(UPLOADS, f"{patient_id}/{image_id}")
    raw = blob.download_blob().readall()
    metadata = dict(blob.get_blob_properties().metadata)
    raw, metadata = mutate(bytearray(raw), metadata)
    blob.upload_blob(bytes(raw), overwrite=True, metadata=metadata)


def test_a_good_upload_becomes_ready_as_a_control(services, azurite, upload):
    patient_id, image_id, url, jwk = upload
    upload_encrypted(url, JPEG, jwk)
    assert processing.handle_upload(services, f"uploads/{patient_id}/{image_id}") == "ready"
    assert services.store.read(PATIENTS, patient_id, image_id)["status"] == "ready"


def test_plaintext_blob_is_rejected(services, azurite, upload):
    BlobClient.from_blob_url(upload[2]).upload_blob(JPEG, overwrite=True)
    assert _process_and_check(services, azurite, upload, ("encryption",))["rejectionCode"] == "not-encrypted"


@pytest.mark.filterwarnings("ignore:This client has been configured to use encryption with version 1.0")
def test_v1_encryption_is_rejected(services, azurite, upload):
    _, _, url, jwk = upload
    BlobClient.from_blob_url(url, require_encryption=True, encryption_version="1.0", key_encryption_key=PublicJwkKek(jwk)).upload_blob(
        JPEG, overwrite=True
    )
    assert _process_and_check(services, azurite, upload, ("old", "unsupported"))["rejectionCode"] == "unsupported-encryption"


def test_missing_encryption_metadata_is_rejected(services, azurite, upload):
    patient_id, image_id, url, jwk = upload
    upload_encrypted(url, JPEG, jwk)
    _rewrite(azurite, patient_id, image_id, lambda raw, meta: (raw, {k: v for k, v in meta.items() if k != "encryptiondata"}))
    assert _process_and_check(services, azurite, upload, ("encryption",))["rejectionCode"] == "not-encrypted"


def test_altered_encryption_metadata_is_rejected(services, azurite, upload):
    patient_id, image_id, url, jwk = upload
    upload_encrypted(url, JPEG, jwk)

    def alter(raw, meta):
        data = json.loads(meta["encryptiondata"])
        data["EncryptedRegionInfo"]["DataLength"] = 1024  # regions of another size than the ciphertext's
        return raw, {**meta, "encryptiondata": json.dumps(data)}

    _rewrite(azurite, patient_id, image_id, alter)
    image = _process_and_check(services, azurite, upload, ("damaged", "changed", "trust"))
    assert image["rejectionCode"] in ("metadata-invalid", "integrity")


def test_a_flipped_byte_is_rejected(services, azurite, upload):
    patient_id, image_id, url, jwk = upload
    upload_encrypted(url, JPEG, jwk)

    def flip(raw, meta):
        raw[len(raw) // 2] ^= 0x01
        return raw, meta

    _rewrite(azurite, patient_id, image_id, flip)
    assert _process_and_check(services, azurite, upload, ("changed", "damaged"))["rejectionCode"] == "integrity"


def test_reordered_regions_are_rejected(services, azurite, upload):
    patient_id, image_id, url, jwk = upload
    big = make_photo(640, 480, seed=42) + b"\x00" * (2 * REGION + 1024)  # two full 4 MiB regions and a short one
    upload_encrypted(url, big, jwk)
    size = 12 + REGION + 16  # nonce + region + GCM tag

    def swap(raw, meta):
        first, second = raw[:size], raw[size : 2 * size]
        assert len(second) == size
        return bytearray(second + first + raw[2 * size :]), meta

    _rewrite(azurite, patient_id, image_id, swap)
    assert _process_and_check(services, azurite, upload, ("changed", "damaged"))["rejectionCode"] == "integrity"


def test_a_content_key_wrapped_by_a_foreign_key_is_rejected(services, azurite, upload):
    _, _, url, jwk = upload
    other = rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key()
    foreign = RSAAlgorithm.to_jwk(other, as_dict=True) | {"kid": "https://evil.vault.azure.net/keys/k/1", "alg": "RSA-OAEP-256"}
    upload_encrypted(url, JPEG, foreign)
    assert _process_and_check(services, azurite, upload, ("key",))["rejectionCode"] == "foreign-key"


def test_our_key_id_on_a_key_wrapped_by_another_key_is_rejected(services, azurite, upload):
    _, _, url, jwk = upload
    other = rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key()
    impostor = RSAAlgorithm.to_jwk(other, as_dict=True) | {"kid": jwk["kid"], "alg": "RSA-OAEP-256"}
    upload_encrypted(url, JPEG, impostor)
    assert _process_and_check(services, azurite, upload, ("key", "changed", "damaged"))["rejectionCode"] in ("foreign-key", "integrity")


def test_a_file_that_is_not_an_image_is_rejected(services, azurite, upload):
    upload_encrypted(upload[2], b"just some text, not a photo\n" * 200, upload[3])
    assert _process_and_check(services, azurite, upload, ("photo",))["rejectionCode"] == "not-an-image"


def test_a_decompression_bomb_is_rejected(services, azurite, upload):
    upload_encrypted(upload[2], make_bomb_png(), upload[3])
    assert _process_and_check(services, azurite, upload, ("large", "big", "pixels"))["rejectionCode"] == "too-many-pixels"


def test_a_photo_over_the_size_limit_is_rejected(services, azurite, upload):
    upload_encrypted(upload[2], JPEG + b"\x00" * (11 * 1024 * 1024), upload[3])
    assert _process_and_check(services, azurite, upload, ("large",))["rejectionCode"] == "too-large"


def test_processing_the_same_upload_twice_yields_one_image(services, azurite, upload):
    patient_id, image_id, url, jwk = upload
    upload_encrypted(url, JPEG, jwk)
    assert processing.handle_upload(services, f"uploads/{patient_id}/{image_id}") == "ready"
    assert processing.handle_upload(services, f"uploads/{patient_id}/{image_id}") == "ready"
    names = [b.name for b in _account(azurite).get_container_client(IMAGES).list_blobs(name_starts_with=f"{patient_id}/")]
    assert sorted(n.rsplit("/", 1)[1] for n in names) == ["original.jpg", "preview.jpg", "thumbnail.jpg"]
