"""AzureBlobStore against Azurite: client-side encryption v2, strict reads, upload SAS, outages."""

from __future__ import annotations

import base64
import json
import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobClient, BlobLeaseClient, BlobServiceClient, ContainerClient
from cryptography.exceptions import InvalidTag

from shared_code.adapters.blob_store import AzureBlobStore
from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.ports import BLOB_CONTAINERS, IMAGES, UPLOADS, DependencyUnavailable, EncryptionRejected, NotFound
from skinvault_client.encryption import upload_encrypted
from tests.support.azurite import Azurite

MiB = 1024 * 1024
REGION = 4 * MiB + 28  # 4 MiB of data + 12-byte nonce + 16-byte tag
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"patient photo of a mole on the left forearm " * 200 + b"\xff\xd9"


@pytest.fixture(scope="module")
def azurite():
    with Azurite() as server:
        yield server


@pytest.fixture(scope="module")
def kek(tmp_path_factory):
    return LocalKekProvider(tmp_path_factory.mktemp("kek") / "kek.pem")


@pytest.fixture(scope="module")
def store(azurite, kek):
    blob_store = AzureBlobStore.from_connection_string(azurite.connection_string, kek)
    blob_store.ensure_containers()
    return blob_store


@pytest.fixture(scope="module")
def raw(azurite):
    """A plain SDK client (no encryption) to look at and tamper with what is stored."""
    return BlobServiceClient.from_connection_string(azurite.connection_string)


@pytest.fixture(scope="module")
def big_blob(store, raw):
    """A 3-region (>8 MiB) blob written by the store; returns (plaintext, ciphertext, metadata)."""
    plaintext = os.urandom(9 * MiB + 1234)
    store.put_encrypted(IMAGES, "fixtures/big", plaintext)
    client = raw.get_blob_client(IMAGES, "fixtures/big")
    return plaintext, client.download_blob().readall(), client.get_blob_properties().metadata


def _read(store, container, name):
    return b"".join(store.read_decrypted(container, name))


def _rejection(store, container, name):
    with pytest.raises(EncryptionRejected) as err:
        _read(store, container, name)
    return err.value.reason_code


def _put_raw(raw, name, data, metadata=None):
    raw.get_blob_client(IMAGES, name).upload_blob(data, overwrite=True, metadata=metadata)


def _envelope(metadata):
    return json.loads(metadata["encryptiondata"])


def _with_envelope(metadata, envelope):
    return {**metadata, "encryptiondata": json.dumps(envelope)}


# ---------------------------------------------------------------- round trips and format
def test_round_trip_returns_the_plaintext_and_caller_metadata(store):
    info = store.put_encrypted(IMAGES, "p1/img1/original", JPEG, metadata={"kind": "original"})

    assert _read(store, IMAGES, "p1/img1/original") == JPEG
    assert info.name == "p1/img1/original"
    assert info.etag
    assert info.metadata == {"kind": "original"}  # the envelope is not the caller's metadata
    assert store.info(IMAGES, "p1/img1/original").etag == info.etag


def test_round_trip_of_a_stream_of_chunks(store):
    chunks = [os.urandom(300_000) for _ in range(30)]  # ~8.6 MiB: three regions, uploaded in blocks

    store.put_encrypted(IMAGES, "p1/img2/original", iter(chunks))

    assert _read(store, IMAGES, "p1/img2/original") == b"".join(chunks)


def test_round_trip_of_an_empty_blob(store):
    store.put_encrypted(IMAGES, "p1/empty", b"")
    assert _read(store, IMAGES, "p1/empty") == b""


def test_ciphertext_in_storage_has_no_jpeg_magic_and_no_plaintext(store, raw):
    store.put_encrypted(IMAGES, "p1/img3/original", JPEG)

    stored = raw.get_blob_client(IMAGES, "p1/img3/original")
    ciphertext = stored.download_blob().readall()
    envelope = _envelope(stored.get_blob_properties().metadata)

    assert not ciphertext.startswith(b"\xff\xd8")
    assert b"JFIF" not in ciphertext and b"patient photo" not in ciphertext
    assert len(ciphertext) == len(JPEG) + 12 + 16  # one region: nonce + ciphertext + tag
    assert envelope["EncryptionAgent"] == {"Protocol": "2.0", "EncryptionAlgorithm": "AES_GCM_256"}
    assert envelope["WrappedContentKey"]["Algorithm"] == "RSA-OAEP-256"
    assert envelope["WrappedContentKey"]["KeyId"] == store._kek.current().get_kid()
    assert envelope["EncryptedRegionInfo"] == {"DataLength": 4 * MiB, "NonceLength": 12}


def test_stock_sdk_v2_decryption_with_the_kek_reads_our_blobs(store, kek, azurite):
    store.put_encrypted(IMAGES, "p1/img4/original", JPEG)

    stock = BlobClient.from_connection_string(
        azurite.connection_string,
        IMAGES,
        "p1/img4/original",
        require_encryption=True,
        encryption_version="2.0",
        key_encryption_key=kek.current(),
    )

    assert stock.download_blob().readall() == JPEG


def test_blob_written_by_the_stock_sdk_v2_is_accepted(store, kek, azurite):
    stock = BlobClient.from_connection_string(
        azurite.connection_string, IMAGES, "p1/stock", require_encryption=True, encryption_version="2.0", key_encryption_key=kek.current()
    )
    stock.upload_blob(JPEG, overwrite=True)

    assert _read(store, IMAGES, "p1/stock") == JPEG


def test_blob_under_a_rotated_away_local_kek_version_still_decrypts(tmp_path, azurite):
    kek = LocalKekProvider(tmp_path / "kek.pem")
    blob_store = AzureBlobStore.from_connection_string(azurite.connection_string, kek)
    blob_store.put_encrypted(IMAGES, "p1/rotated", JPEG)
    old_kid = kek.current().get_kid()

    kek.rotate()

    assert kek.current().get_kid() != old_kid
    assert _read(blob_store, IMAGES, "p1/rotated") == JPEG


# ---------------------------------------------------------------- the phone's upload path
def test_phone_upload_with_sas_is_read_by_the_server(store, kek):
    url = store.upload_url(UPLOADS, "p2/upload-1", datetime.now(UTC) + timedelta(minutes=10))

    upload_encrypted(url, JPEG, kek.public_jwk())

    assert _read(store, UPLOADS, "p2/upload-1") == JPEG


def test_phone_upload_of_a_large_photo_over_several_regions_is_read_by_the_server(store, kek):
    photo = os.urandom(9 * MiB)
    url = store.upload_url(UPLOADS, "p2/upload-large", datetime.now(UTC) + timedelta(minutes=10))

    upload_encrypted(url, photo, kek.public_jwk())  # one PUT, three 4 MiB regions encrypted as they are sent

    assert _read(store, UPLOADS, "p2/upload-large") == photo


def test_phone_retrying_the_same_upload_replaces_the_first_attempt(store, kek):
    url = store.upload_url(UPLOADS, "p2/upload-2", datetime.now(UTC) + timedelta(minutes=10))
    upload_encrypted(url, b"first attempt", kek.public_jwk())

    upload_encrypted(url, JPEG, kek.public_jwk())

    assert _read(store, UPLOADS, "p2/upload-2") == JPEG


def test_upload_sas_grants_create_and_write_on_one_blob_only(store):
    url = store.upload_url(UPLOADS, "p2/upload-3", datetime.now(UTC) + timedelta(minutes=10))
    query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))

    assert query["sp"] == "cw"
    assert query["sr"] == "b"
    assert url.split("?")[0].endswith(f"/{UPLOADS}/p2/upload-3")


def test_upload_sas_cannot_read_the_blob_it_wrote(store, kek):
    url = store.upload_url(UPLOADS, "p2/upload-4", datetime.now(UTC) + timedelta(minutes=10))
    upload_encrypted(url, JPEG, kek.public_jwk())

    with pytest.raises(HttpResponseError) as err:
        BlobClient.from_blob_url(url).download_blob().readall()
    assert err.value.status_code == 403
    with pytest.raises(HttpResponseError) as err:
        BlobClient.from_blob_url(url).get_blob_properties()
    assert err.value.status_code == 403


def test_upload_sas_cannot_list_the_container(store):
    url = store.upload_url(UPLOADS, "p2/upload-5", datetime.now(UTC) + timedelta(minutes=10))
    base, sas = url.split("?", 1)
    container_url = base.rsplit("/", 2)[0] + "?" + sas

    with pytest.raises(HttpResponseError) as err:
        list(ContainerClient.from_container_url(container_url).list_blobs())
    assert err.value.status_code == 403


def test_upload_sas_cannot_write_another_blob(store, kek):
    url = store.upload_url(UPLOADS, "p2/upload-6", datetime.now(UTC) + timedelta(minutes=10))
    base, sas = url.split("?", 1)
    other = base.replace("p2/upload-6", "p2/someone-elses") + "?" + sas

    with pytest.raises(HttpResponseError) as err:
        upload_encrypted(other, JPEG, kek.public_jwk())
    assert err.value.status_code == 403
    with pytest.raises(NotFound):
        store.info(UPLOADS, "p2/someone-elses")


def test_upload_sas_stops_working_when_it_expires(store, kek):
    url = store.upload_url(UPLOADS, "p2/upload-7", datetime.now(UTC) + timedelta(seconds=2))
    time.sleep(3)

    with pytest.raises(HttpResponseError) as err:
        upload_encrypted(url, JPEG, kek.public_jwk())
    assert err.value.status_code == 403


def test_upload_url_refuses_a_past_or_naive_expiry(store):
    with pytest.raises(ValueError):
        store.upload_url(UPLOADS, "p2/x", datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(ValueError):
        store.upload_url(UPLOADS, "p2/x", datetime.now() + timedelta(minutes=5))  # noqa: DTZ005 - naive on purpose


# ---------------------------------------------------------------- rejections
def test_plaintext_blob_is_rejected_as_not_encrypted(store, raw):
    _put_raw(raw, "bad/plaintext", JPEG)

    assert _rejection(store, IMAGES, "bad/plaintext") == "not-encrypted"


def test_v1_blob_is_rejected_although_the_sdk_would_decrypt_it(store, kek, azurite):
    with pytest.warns(UserWarning, match="Version 1.0 is deprecated"):
        v1 = BlobClient.from_connection_string(
            azurite.connection_string, IMAGES, "bad/v1", require_encryption=True, encryption_version="1.0", key_encryption_key=kek.current()
        )
    v1.upload_blob(JPEG, overwrite=True)
    assert v1.download_blob().readall() == JPEG  # the stock SDK accepts v1 (AES-CBC): refusing it is our job

    assert _rejection(store, IMAGES, "bad/v1") == "unsupported-encryption"


def test_encryption_metadata_that_is_not_json_is_rejected(store, raw, big_blob):
    _, ciphertext, metadata = big_blob
    _put_raw(raw, "bad/not-json", ciphertext, {**metadata, "encryptiondata": "{not json"})

    assert _rejection(store, IMAGES, "bad/not-json") == "metadata-invalid"


@pytest.mark.parametrize(
    ("field", "value"),
    [(("EncryptedRegionInfo", "DataLength"), 1024 * 1024), (("EncryptedRegionInfo", "NonceLength"), 16), (("EncryptionMode",), "Partial")],
)
def test_altered_region_layout_in_metadata_is_rejected(store, raw, big_blob, field, value):
    _, ciphertext, metadata = big_blob
    envelope = _envelope(metadata)
    target = envelope
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    _put_raw(raw, "bad/region-layout", ciphertext, _with_envelope(metadata, envelope))

    assert _rejection(store, IMAGES, "bad/region-layout") == "metadata-invalid"


@pytest.mark.parametrize(("protocol", "cipher"), [("1.0", "AES_GCM_256"), ("2.1", "AES_GCM_256"), ("2.0", "AES_CBC_256")])
def test_altered_protocol_or_cipher_in_metadata_is_rejected(store, raw, big_blob, protocol, cipher):
    _, ciphertext, metadata = big_blob
    envelope = _envelope(metadata)
    envelope["EncryptionAgent"] = {"Protocol": protocol, "EncryptionAlgorithm": cipher}
    _put_raw(raw, "bad/protocol", ciphertext, _with_envelope(metadata, envelope))

    assert _rejection(store, IMAGES, "bad/protocol") == "unsupported-encryption"


@pytest.mark.parametrize("algorithm", ["RSA-OAEP", "RSA1_5", "A256KW"])
def test_key_wrap_algorithm_other_than_rsa_oaep_256_is_rejected(store, raw, big_blob, algorithm):
    _, ciphertext, metadata = big_blob
    envelope = _envelope(metadata)
    envelope["WrappedContentKey"]["Algorithm"] = algorithm
    _put_raw(raw, "bad/wrap-alg", ciphertext, _with_envelope(metadata, envelope))

    assert _rejection(store, IMAGES, "bad/wrap-alg") == "unsupported-encryption"


def test_key_id_altered_to_one_outside_our_key_is_rejected_as_foreign(store, raw, big_blob):
    _, ciphertext, metadata = big_blob
    envelope = _envelope(metadata)
    envelope["WrappedContentKey"]["KeyId"] = "https://evil.vault.azure.net/keys/kek/1"
    _put_raw(raw, "bad/kid", ciphertext, _with_envelope(metadata, envelope))

    assert _rejection(store, IMAGES, "bad/kid") == "foreign-key"


def test_encrypted_key_altered_is_rejected_as_foreign(store, raw, big_blob):
    _, ciphertext, metadata = big_blob
    envelope = _envelope(metadata)
    wrapped = bytearray(base64.b64decode(envelope["WrappedContentKey"]["EncryptedKey"]))
    wrapped[10] ^= 0x01
    envelope["WrappedContentKey"]["EncryptedKey"] = base64.b64encode(bytes(wrapped)).decode()
    _put_raw(raw, "bad/encrypted-key", ciphertext, _with_envelope(metadata, envelope))

    assert _rejection(store, IMAGES, "bad/encrypted-key") == "foreign-key"


def test_wrapped_key_that_is_not_a_v2_content_key_is_rejected(store, raw, kek, big_blob):
    _, ciphertext, metadata = big_blob
    envelope = _envelope(metadata)
    envelope["WrappedContentKey"]["EncryptedKey"] = base64.b64encode(kek.current().wrap_key(os.urandom(32))).decode()
    _put_raw(raw, "bad/not-v2-key", ciphertext, _with_envelope(metadata, envelope))

    assert _rejection(store, IMAGES, "bad/not-v2-key") == "metadata-invalid"


def test_blob_wrapped_under_another_rsa_key_is_rejected_as_foreign(tmp_path, azurite, store):
    stranger = AzureBlobStore.from_connection_string(azurite.connection_string, LocalKekProvider(tmp_path / "stranger.pem"))
    stranger.put_encrypted(IMAGES, "bad/foreign", JPEG)

    assert _rejection(store, IMAGES, "bad/foreign") == "foreign-key"


def test_flipped_byte_in_the_ciphertext_is_rejected_for_integrity(store, raw, big_blob):
    _, ciphertext, metadata = big_blob
    tampered = bytearray(ciphertext)
    tampered[REGION + 1000] ^= 0x01
    _put_raw(raw, "bad/flipped", bytes(tampered), metadata)

    assert _rejection(store, IMAGES, "bad/flipped") == "integrity"


def test_two_swapped_regions_are_rejected_for_integrity(store, raw, big_blob):
    _, ciphertext, metadata = big_blob
    swapped = ciphertext[REGION : 2 * REGION] + ciphertext[:REGION] + ciphertext[2 * REGION :]
    _put_raw(raw, "bad/swapped", swapped, metadata)

    assert _rejection(store, IMAGES, "bad/swapped") == "integrity"


def test_truncated_ciphertext_is_rejected_for_integrity(store, raw, big_blob):
    _, ciphertext, metadata = big_blob
    _put_raw(raw, "bad/truncated", ciphertext[:-100], metadata)

    assert _rejection(store, IMAGES, "bad/truncated") == "integrity"


def test_tampering_in_a_later_region_raises_after_earlier_plaintext_was_yielded(store, raw, big_blob):
    plaintext, ciphertext, metadata = big_blob
    tampered = bytearray(ciphertext)
    tampered[2 * REGION + 50] ^= 0x80  # third region
    _put_raw(raw, "bad/late", bytes(tampered), metadata)

    received = []
    with pytest.raises(EncryptionRejected) as err:
        for chunk in store.read_decrypted(IMAGES, "bad/late"):
            received.append(chunk)
    assert err.value.reason_code == "integrity"
    # Callers must discard this partial plaintext (documented contract of read_decrypted).
    assert b"".join(received) == plaintext[: len(b"".join(received))]
    assert len(b"".join(received)) < len(plaintext)


def _cause_chain(exc):
    chain = []
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


@pytest.mark.parametrize("tampering", ["flipped", "swapped"])
def test_stock_sdk_reports_tampering_as_decryption_failed_chained_to_the_cause(store, raw, kek, azurite, big_blob, tampering):
    """Pins the azure-storage-blob behaviour read_decrypted maps (see blob_store's docstring)."""
    _, ciphertext, metadata = big_blob
    if tampering == "flipped":
        data = bytearray(ciphertext)
        data[100] ^= 0x01
        data = bytes(data)
    else:
        data = ciphertext[REGION : 2 * REGION] + ciphertext[:REGION] + ciphertext[2 * REGION :]
    _put_raw(raw, f"sdk/{tampering}", data, metadata)
    stock = BlobClient.from_connection_string(
        azurite.connection_string, IMAGES, f"sdk/{tampering}", require_encryption=True, encryption_version="2.0", key_resolver_function=kek.resolve
    )

    with pytest.raises(HttpResponseError, match="Decryption failed") as err:
        stock.download_blob().readall()
    chain = _cause_chain(err.value)
    if tampering == "flipped":
        assert any(isinstance(e, InvalidTag) for e in chain)
    else:
        assert any(isinstance(e, ValueError) and "may have been modified" in str(e) for e in chain)


def test_missing_blob_raises_not_found(store):
    with pytest.raises(NotFound):
        store.read_decrypted(IMAGES, "nobody/nothing")
    with pytest.raises(NotFound):
        store.info(IMAGES, "nobody/nothing")


# ---------------------------------------------------------------- memory
def _peak_while_reading(store, name):
    tracemalloc.start()
    try:
        total = 0
        for chunk in store.read_decrypted(IMAGES, name):
            total += len(chunk)
        return total, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_reading_a_40_mib_blob_holds_a_bounded_amount_of_memory(store):
    block = os.urandom(MiB)
    store.put_encrypted(IMAGES, "mem/12", (block for _ in range(12)))
    store.put_encrypted(IMAGES, "mem/40", (block for _ in range(40)))

    total_12, peak_12 = _peak_while_reading(store, "mem/12")
    total_40, peak_40 = _peak_while_reading(store, "mem/40")

    assert (total_12, total_40) == (12 * MiB, 40 * MiB)
    # The SDK copies one 4 MiB region several times while decrypting it (~45 MiB peak); what
    # matters is that the peak does not grow with the blob: 40 MiB costs what 12 MiB costs.
    assert peak_40 < 64 * MiB
    assert peak_40 < peak_12 + 8 * MiB


# ---------------------------------------------------------------- housekeeping
def test_ensure_containers_is_idempotent_and_containers_are_private(store, raw):
    store.ensure_containers()

    names = {c.name for c in raw.list_containers()}
    assert set(BLOB_CONTAINERS) <= names
    for name in BLOB_CONTAINERS:
        assert raw.get_container_client(name).get_container_properties().public_access is None


def test_list_delete_and_delete_prefix(store):
    for i in range(3):
        store.put_encrypted(IMAGES, f"erase-me/img{i}", JPEG, metadata={"n": str(i)})
    store.put_encrypted(IMAGES, "keep-me/img", JPEG)

    listed = list(store.list(IMAGES, "erase-me/"))
    assert sorted(b.name for b in listed) == ["erase-me/img0", "erase-me/img1", "erase-me/img2"]
    assert all("encryptiondata" not in b.metadata for b in listed)
    assert {b.metadata["n"] for b in listed} == {"0", "1", "2"}

    store.delete(IMAGES, "erase-me/img0")
    store.delete(IMAGES, "erase-me/img0")  # absent: not an error
    assert store.delete_prefix(IMAGES, "erase-me/") == 2
    assert list(store.list(IMAGES, "erase-me/")) == []
    assert [b.name for b in store.list(IMAGES, "keep-me/")] == ["keep-me/img"]


# ---------------------------------------------------------------- outages
def test_ping_fails_fast_while_azurite_is_down_and_recovers_when_it_is_back(kek):
    with Azurite() as own:
        blob_store = AzureBlobStore.from_connection_string(own.connection_string, kek)
        blob_store.ping()

        own.stop()
        started = time.monotonic()
        with pytest.raises(DependencyUnavailable) as err:
            blob_store.ping()
        assert time.monotonic() - started < 5
        assert err.value.dependency == "blob storage"
        with pytest.raises(DependencyUnavailable):
            blob_store.info(IMAGES, "anything")

        own.start()
        blob_store.ping()


# ----------------------------------------------------------------------------- ranged reads (issue 15)
@pytest.mark.parametrize("size", [0, 1, REGION - 1, REGION, REGION + 1, 9 * MiB + 1234])
def test_plaintext_size_is_known_from_the_ciphertext_at_every_region_boundary(store, size):
    store.put_encrypted(IMAGES, f"sizes/{size}", os.urandom(size))
    assert store.plaintext_size(IMAGES, f"sizes/{size}") == size


@pytest.mark.parametrize(("offset", "length"), [(0, 1), (0, REGION), (REGION - 10, 20), (REGION, REGION), (2 * REGION + 5, 1229), (5, 9 * MiB)])
def test_a_range_reads_exactly_those_plaintext_bytes(store, big_blob, offset, length):
    plaintext = big_blob[0]
    got = b"".join(store.read_decrypted(IMAGES, "fixtures/big", offset=offset, length=length))
    assert got == plaintext[offset : offset + length]


def test_a_range_in_a_tampered_region_is_refused_while_other_regions_still_read(store, raw, big_blob):
    plaintext, ciphertext, metadata = big_blob
    tampered = bytearray(ciphertext)
    tampered[2 * REGION + 2 * 28 + 50] ^= 0x80  # inside the third region's data
    _put_raw(raw, "bad/ranged", bytes(tampered), metadata)
    with pytest.raises(EncryptionRejected) as err:
        b"".join(store.read_decrypted(IMAGES, "bad/ranged", offset=2 * REGION, length=100))
    assert err.value.reason_code == "integrity"
    assert b"".join(store.read_decrypted(IMAGES, "bad/ranged", offset=0, length=REGION)) == plaintext[:REGION]


# ------------------------------------------------------------------ leases (issue 14 item 3)
def _lease_with_upload_sas(store, kek, name):
    """What anyone holding the upload link can do: write the blob, then take an infinite lease."""
    url = store.upload_url(UPLOADS, name, datetime.now(UTC) + timedelta(minutes=10))
    upload_encrypted(url, JPEG, kek.public_jwk())
    BlobLeaseClient(BlobClient.from_blob_url(url)).acquire(lease_duration=-1)


def test_info_reports_a_lease_taken_with_the_upload_sas(store, kek):
    _lease_with_upload_sas(store, kek, "leases/info")

    assert store.info(UPLOADS, "leases/info").leased is True


def test_a_blob_under_an_infinite_lease_is_still_deleted(store, kek, raw):
    _lease_with_upload_sas(store, kek, "leases/one")

    store.delete(UPLOADS, "leases/one")

    assert not raw.get_blob_client(UPLOADS, "leases/one").exists()


def test_delete_prefix_breaks_leases_on_every_blob(store, kek, raw):
    _lease_with_upload_sas(store, kek, "leases/many/a")
    _lease_with_upload_sas(store, kek, "leases/many/b")

    assert store.delete_prefix(UPLOADS, "leases/many/") == 2

    assert not list(raw.get_container_client(UPLOADS).list_blobs(name_starts_with="leases/many/"))


def test_list_page_walks_a_prefix_in_bounded_pages(store):
    for i in range(5):
        store.put_encrypted(IMAGES, f"paged/{i}", b"x")
    seen, token, pages = [], None, 0
    while True:
        items, token = store.list_page(IMAGES, "paged/", continuation=token, limit=2)
        pages += 1
        assert len(items) <= 2
        seen.extend(i.name for i in items)
        if token is None:
            break
    assert seen == [f"paged/{i}" for i in range(5)]
    assert pages == 3
