"""The patient app's client-side encryption (patient/js/lib/cse.js, run in Node) speaks exactly
azure-storage-blob's v2: the stock SDK decrypts what the JavaScript writes, the JavaScript decrypts
what the SDK writes, and tampered JavaScript uploads end `rejected` in the real processing pipeline
(Azurite, the local PEM KEK, SQLite; the upload is a plain PUT to the session's SAS URL, as the
browser sends it)."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
from azure.storage.blob import BlobClient, BlobServiceClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from PIL import Image

from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.auth.principal import PATIENT, Principal
from shared_code.ports import IMAGES, PATIENTS, UPLOADS
from shared_code.services import library, processing
from skinvault_client.encryption import PublicJwkKek
from tests.support.azurite import azurite_fixture
from tests.support.images import make_photo
from tests.support.real_services import azurite_services

REGION = 4 * 1024 * 1024
SIZES = [0, 1, REGION - 1, REGION, REGION + 1, 25_000_000]
TOOL = Path(__file__).with_name("js_tool.mjs")
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

azurite = azurite_fixture(scope="module", name="azurite")


def run_js(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([NODE or "node", str(TOOL), *map(str, args)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def js_encrypt(tmp: Path, plaintext: bytes, kek: dict) -> tuple[bytes, str]:
    """Encrypt with encryptBlobV2; returns (body, encryptiondata)."""
    name = uuid.uuid4().hex[:8]
    (tmp / f"{name}.plain").write_bytes(plaintext)
    (tmp / f"{name}.kek.json").write_text(json.dumps(kek))
    run_js("encrypt", tmp / f"{name}.plain", tmp / f"{name}.kek.json", tmp / f"{name}.body", tmp / f"{name}.meta")
    return (tmp / f"{name}.body").read_bytes(), (tmp / f"{name}.meta").read_text()


def plaintext_of(size: int) -> bytes:
    return os.urandom(size)


@pytest.fixture(scope="module")
def local_kek(tmp_path_factory) -> tuple[LocalKekProvider, Path]:
    pem = tmp_path_factory.mktemp("kek") / "kek.pem"
    provider = LocalKekProvider(pem)
    provider.current()  # creates the PEM
    return provider, pem


@pytest.fixture(scope="module")
def container(azurite) -> str:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.create_container("interop")
    return "interop"


def _blob(azurite, container: str, name: str, **kwargs) -> BlobClient:
    return BlobClient.from_connection_string(azurite.connection_string, container, name, **kwargs)


# --------------------------------------------------------------------------- (a) JS -> stock SDK
@pytest.mark.parametrize("size", SIZES, ids=[f"{s}B" for s in SIZES])
def test_blob_encrypted_by_the_app_decrypts_with_azure_storage_blob(size, azurite, container, local_kek, tmp_path):
    provider, _ = local_kek
    jwk = provider.public_jwk()
    plaintext = plaintext_of(size)
    body, encryptiondata = js_encrypt(tmp_path, plaintext, {"kid": jwk["kid"], "jwk": jwk})
    assert len(body) == size + -(-size // REGION) * 28

    name = f"js-{size}"
    _blob(azurite, container, name).upload_blob(body, overwrite=True, metadata={"encryptiondata": encryptiondata})
    # Small chunks so the SDK also takes its ranged, region-aligned download path.
    reader = _blob(
        azurite,
        container,
        name,
        require_encryption=True,
        encryption_version="2.0",
        key_encryption_key=provider.current(),
        max_single_get_size=REGION,
        max_chunk_get_size=REGION,
    )
    assert reader.download_blob().readall() == plaintext


def test_the_apps_metadata_is_laid_out_as_the_python_sdk_writes_it(local_kek, tmp_path):
    provider, _ = local_kek
    jwk = provider.public_jwk()
    _, encryptiondata = js_encrypt(tmp_path, b"x", {"kid": jwk["kid"], "jwk": jwk})
    data = json.loads(encryptiondata)
    assert json.dumps(data) == encryptiondata  # Python's key order and separators, ASCII only
    assert list(data) == ["WrappedContentKey", "EncryptionAgent", "EncryptedRegionInfo", "KeyWrappingMetadata", "EncryptionMode"]
    assert data["EncryptionAgent"] == {"Protocol": "2.0", "EncryptionAlgorithm": "AES_GCM_256"}
    assert data["EncryptedRegionInfo"] == {"DataLength": REGION, "NonceLength": 12}
    assert data["WrappedContentKey"]["KeyId"] == jwk["kid"] and data["WrappedContentKey"]["Algorithm"] == "RSA-OAEP-256"
    # The wrapped key is the 2.0 prefix and a 32-byte content key, under our KEK.
    unwrapped = provider.current().unwrap_key(base64.b64decode(data["WrappedContentKey"]["EncryptedKey"]), "RSA-OAEP-256")
    assert unwrapped[:8] == b"2.0\0\0\0\0\0" and len(unwrapped) == 40


# --------------------------------------------------------------------------- (b) stock SDK -> JS
@pytest.mark.parametrize("size", SIZES, ids=[f"{s}B" for s in SIZES])
def test_blob_encrypted_by_azure_storage_blob_decrypts_with_the_apps_routine(size, azurite, container, local_kek, tmp_path):
    provider, pem = local_kek
    jwk = provider.public_jwk()
    plaintext = plaintext_of(size)
    name = f"py-{size}"
    writer = _blob(azurite, container, name, require_encryption=True, encryption_version="2.0", key_encryption_key=PublicJwkKek(jwk))
    writer.upload_blob(plaintext, overwrite=True)

    raw = _blob(azurite, container, name)
    (tmp_path / "body").write_bytes(raw.download_blob().readall())
    (tmp_path / "meta").write_text(raw.get_blob_properties().metadata["encryptiondata"])
    private = serialization.load_pem_private_key(pem.read_bytes(), password=None)
    (tmp_path / "private.json").write_text(json.dumps(RSAAlgorithm.to_jwk(private, as_dict=True) | {"kid": jwk["kid"]}))
    run_js("decrypt", tmp_path / "body", tmp_path / "meta", tmp_path / "private.json", tmp_path / "plain")
    assert (tmp_path / "plain").read_bytes() == plaintext


@pytest.mark.filterwarnings("ignore:This client has been configured to use encryption with version 1.0")
def test_the_apps_routine_refuses_what_the_sdk_would_accept_with_v1(azurite, container, local_kek, tmp_path):
    """azure-storage-blob still decrypts v1 (AES-CBC); decryptBlobV2 must not."""
    provider, pem = local_kek
    jwk = provider.public_jwk()
    writer = _blob(azurite, container, "py-v1", require_encryption=True, encryption_version="1.0", key_encryption_key=PublicJwkKek(jwk))
    writer.upload_blob(b"old format", overwrite=True)
    raw = _blob(azurite, container, "py-v1")
    (tmp_path / "body").write_bytes(raw.download_blob().readall())
    (tmp_path / "meta").write_text(raw.get_blob_properties().metadata["encryptiondata"])
    private = serialization.load_pem_private_key(pem.read_bytes(), password=None)
    (tmp_path / "private.json").write_text(json.dumps(RSAAlgorithm.to_jwk(private, as_dict=True) | {"kid": jwk["kid"]}))
    result = subprocess.run(
        [NODE or "node", str(TOOL), "decrypt", tmp_path / "body", tmp_path / "meta", tmp_path / "private.json", tmp_path / "plain"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "unsupported-encryption" in result.stderr
    assert not (tmp_path / "plain").exists()


# --------------------------------------------------------------------------- (c) the real pipeline
@pytest.fixture(scope="module")
def services(azurite, tmp_path_factory):
    return azurite_services(azurite, tmp_path_factory.mktemp("js-pipeline"), MAX_UPLOAD_BYTES=str(10 * 1024 * 1024))


@pytest.fixture
def session(services) -> dict:
    """A fresh upload session (as POST /folders/{id}/uploads returns it) for a new patient."""
    user = Principal(kind=PATIENT, sub=f"p-{uuid.uuid4().hex[:8]}", issuer="test")
    folder = library.create_folder(services, user, {"name": "Mole"})
    started = library.start_upload(services, user, folder["id"], {"contentType": "image/jpeg", "sizeBytes": 1000})
    return started | {"patientId": user.patient_id, "user": user}


def put_like_the_app(url: str, body: bytes, encryptiondata: str) -> None:
    """One PUT of the ciphertext with its metadata header: what the patient app's uploader sends."""
    response = httpx.put(
        url,
        content=body,
        headers={"x-ms-blob-type": "BlockBlob", "x-ms-meta-encryptiondata": encryptiondata, "Content-Type": "application/octet-stream"},
        timeout=60,
    )
    assert response.status_code == 201, response.text


def _process(services, azurite, session) -> dict:
    patient_id, image_id = session["patientId"], session["uploadId"]
    outcome = processing.handle_upload(services, f"uploads/{patient_id}/{image_id}")
    image = services.store.read(PATIENTS, patient_id, image_id)
    assert image["status"] == outcome
    if outcome == "rejected":
        account = BlobServiceClient.from_connection_string(azurite.connection_string)
        assert not list(account.get_container_client(UPLOADS).list_blobs(name_starts_with=f"{patient_id}/"))
        assert not list(account.get_container_client(IMAGES).list_blobs(name_starts_with=f"{patient_id}/"))
    return image


def _kek_of(session: dict) -> dict:
    encryption = session["encryption"]
    assert encryption["protocol"] == "2.0" and encryption["alg"] == "RSA-OAEP-256"
    return {"kid": encryption["kid"], "jwk": encryption["jwk"]}


def test_a_photo_encrypted_by_the_app_becomes_ready(services, azurite, session, tmp_path):
    body, meta = js_encrypt(tmp_path, make_photo(640, 480, seed=51), _kek_of(session))
    put_like_the_app(session["uploadUrl"], body, meta)
    assert _process(services, azurite, session)["status"] == "ready"


def test_a_photo_stripped_and_encrypted_by_the_app_is_ready_with_no_gps_and_its_capture_time(services, azurite, session, tmp_path):
    source = make_photo(640, 480, seed=57, captured_at="2026:02:03 04:05:06", gps=True)
    (tmp_path / "in.jpg").write_bytes(source)
    run_js("strip", tmp_path / "in.jpg", tmp_path / "out.jpg")
    body, meta = js_encrypt(tmp_path, (tmp_path / "out.jpg").read_bytes(), _kek_of(session))
    put_like_the_app(session["uploadUrl"], body, meta)
    image = _process(services, azurite, session)
    assert image["status"] == "ready"
    # The capture time the app kept reached the server (February: UK time is UTC).
    assert (image["capturedAt"], image["capturedAtSource"]) == ("2026-02-03T04:05:06Z", "camera")
    original, _ = library.image_content(services, session["user"], session["uploadId"], "original")
    with Image.open(io.BytesIO(original)) as stored:
        assert stored.size == (640, 480)
        assert not stored.getexif().get_ifd(0x8825)
    assert b"SkinVaultTestCam" not in original and b"GPS" not in original


def test_one_flipped_bit_is_rejected(services, azurite, session, tmp_path):
    body, meta = js_encrypt(tmp_path, make_photo(640, 480, seed=52), _kek_of(session))
    tampered = bytearray(body)
    tampered[len(tampered) // 2] ^= 0x04
    put_like_the_app(session["uploadUrl"], bytes(tampered), meta)
    image = _process(services, azurite, session)
    assert (image["status"], image["rejectionCode"]) == ("rejected", "integrity")


def test_two_regions_swapped_are_rejected(services, azurite, session, tmp_path):
    photo = make_photo(640, 480, seed=53)
    body, meta = js_encrypt(tmp_path, photo + b"\x00" * (2 * REGION + 1024 - len(photo)), _kek_of(session))
    size = 12 + REGION + 16
    swapped = body[size : 2 * size] + body[:size] + body[2 * size :]
    assert len(swapped) == len(body) and swapped != body
    put_like_the_app(session["uploadUrl"], swapped, meta)
    image = _process(services, azurite, session)
    assert (image["status"], image["rejectionCode"]) == ("rejected", "integrity")


def test_a_content_key_wrapped_under_a_foreign_key_is_rejected(services, azurite, session, tmp_path):
    other = rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key()
    kid = "https://evil.vault.azure.net/keys/k/1"
    foreign = RSAAlgorithm.to_jwk(other, as_dict=True) | {"kid": kid, "alg": "RSA-OAEP-256"}
    body, meta = js_encrypt(tmp_path, make_photo(640, 480, seed=54), {"kid": kid, "jwk": foreign})
    put_like_the_app(session["uploadUrl"], body, meta)
    image = _process(services, azurite, session)
    assert (image["status"], image["rejectionCode"]) == ("rejected", "foreign-key")


def test_our_kid_on_a_foreign_key_is_rejected(services, azurite, session, tmp_path):
    other = rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key()
    kid = session["encryption"]["kid"]
    impostor = RSAAlgorithm.to_jwk(other, as_dict=True) | {"kid": kid, "alg": "RSA-OAEP-256"}
    body, meta = js_encrypt(tmp_path, make_photo(640, 480, seed=55), {"kid": kid, "jwk": impostor})
    put_like_the_app(session["uploadUrl"], body, meta)
    image = _process(services, azurite, session)
    assert image["status"] == "rejected" and image["rejectionCode"] in ("foreign-key", "integrity")


def test_a_photo_encrypted_offline_under_an_older_key_version_is_still_accepted(services, azurite, session, tmp_path):
    """The app caches the upload key; after a rotation its queued photos must still be processed."""
    cached = _kek_of(session)
    body, meta = js_encrypt(tmp_path, make_photo(640, 480, seed=56), cached)
    services.kek.rotate()
    assert services.kek.public_jwk()["kid"] != cached["kid"]
    put_like_the_app(session["uploadUrl"], body, meta)
    assert _process(services, azurite, session)["status"] == "ready"
