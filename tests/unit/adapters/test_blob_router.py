"""Uploads live in the ingest account, images and exports in the private one: one BlobStore routes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared_code.adapters.blob_router import RoutedBlobStore
from shared_code.ports import EXPORTS, IMAGES, UPLOADS, DependencyUnavailable
from tests.fakes.ports import FakeBlobStore


@pytest.fixture
def stores():
    main, ingest = FakeBlobStore(), FakeBlobStore()
    return main, ingest, RoutedBlobStore(main, {UPLOADS: ingest})


def test_each_container_goes_to_its_account(stores):
    main, ingest, routed = stores
    routed.put_encrypted(UPLOADS, "p/i", b"u")
    routed.put_encrypted(IMAGES, "p/i/original.jpg", b"o")
    routed.put_encrypted(EXPORTS, "p/e.zip", b"z")
    assert set(ingest.blobs) == {(UPLOADS, "p/i")}
    assert set(main.blobs) == {(IMAGES, "p/i/original.jpg"), (EXPORTS, "p/e.zip")}
    assert b"".join(routed.read_decrypted(UPLOADS, "p/i")) == b"u"
    assert routed.info(IMAGES, "p/i/original.jpg").size == 1
    assert [b.name for b in routed.list(UPLOADS)] == ["p/i"]
    assert "/uploads/p/i" in routed.upload_url(UPLOADS, "p/i", datetime(2030, 1, 1, tzinfo=UTC))
    routed.delete(UPLOADS, "p/i")
    assert routed.delete_prefix(IMAGES, "p/") == 1
    assert not ingest.blobs and set(main.blobs) == {(EXPORTS, "p/e.zip")}


def test_health_fails_when_either_account_is_down(stores):
    main, ingest, routed = stores
    routed.ping()
    ingest.available = False
    with pytest.raises(DependencyUnavailable):
        routed.ping()
    ingest.available, main.available = True, False
    with pytest.raises(DependencyUnavailable):
        routed.ensure_containers()
