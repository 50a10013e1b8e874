"""The client SDK's encrypted upload (skinvault_client.encryption.upload_encrypted) is one Put Blob
whose body is encrypted region by region as it is sent, and the stock azure-storage-blob SDK
decrypts what it writes, at the sizes around the 4 MiB region boundary and at 25 MB (Azurite)."""

from __future__ import annotations

import json
import os
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobClient, BlobServiceClient

from shared_code.adapters.blob_store import AzureBlobStore
from shared_code.adapters.local_kek import LocalKekProvider
from skinvault_client.encryption import encrypted_length, upload_encrypted
from tests.support.azurite import azurite_fixture

MiB = 1024 * 1024
REGION = 4 * MiB
SIZES = [0, 1, REGION - 1, REGION, REGION + 1, 25_000_000]

azurite = azurite_fixture(scope="module", name="azurite")


class RecordingTransport(RequestsTransport):
    """Keeps the headers each PUT was actually sent with (as requests prepared them)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, str]] = []

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        self.sent.append(dict(response.internal_response.request.headers))
        return response


@pytest.fixture(scope="module")
def kek(tmp_path_factory) -> LocalKekProvider:
    return LocalKekProvider(tmp_path_factory.mktemp("kek") / "kek.pem")


@pytest.fixture(scope="module")
def store(azurite, kek) -> AzureBlobStore:
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container("phone")
    return AzureBlobStore.from_connection_string(azurite.connection_string, kek, containers=("phone",))


def _sas(store: AzureBlobStore, name: str) -> str:
    return store.upload_url("phone", name, datetime.now(UTC) + timedelta(minutes=10))


@pytest.mark.parametrize("size", SIZES, ids=[f"{s}B" for s in SIZES])
def test_the_stock_sdk_decrypts_a_streamed_upload(size, azurite, store, kek):
    plaintext = os.urandom(size)
    name = f"streamed-{size}"
    transport = RecordingTransport()

    upload_encrypted(_sas(store, name), plaintext, kek.public_jwk(), transport=transport)

    (headers,) = transport.sent  # one request
    assert int(headers["Content-Length"]) == encrypted_length(size)
    assert "Transfer-Encoding" not in headers
    reader = BlobClient.from_connection_string(
        azurite.connection_string,
        "phone",
        name,
        require_encryption=True,
        encryption_version="2.0",
        key_encryption_key=kek.current(),
        max_single_get_size=REGION,
        max_chunk_get_size=REGION,
    )
    assert reader.download_blob().readall() == plaintext
    raw = BlobClient.from_connection_string(azurite.connection_string, "phone", name)
    assert raw.get_blob_properties().size == encrypted_length(size)
    metadata = json.loads(raw.get_blob_properties().metadata["encryptiondata"])
    assert metadata["EncryptionAgent"] == {"Protocol": "2.0", "EncryptionAlgorithm": "AES_GCM_256"}


def test_a_25_mb_upload_holds_about_one_region_not_the_whole_blob(store, kek):
    plaintext = os.urandom(25_000_000)
    url = _sas(store, "streamed-memory")
    tracemalloc.start()
    try:
        upload_encrypted(url, plaintext, kek.public_jwk())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A region or two of ciphertext (4 MiB each) in flight plus the HTTP stack; a buffered upload holds the
    # whole 25 MB ciphertext at least once.
    assert peak < 12 * MiB, f"peak {peak / MiB:.1f} MiB"
