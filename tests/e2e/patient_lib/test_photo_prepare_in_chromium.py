"""The patient app's photo preparation and encryption in Debian Chromium (the browser the app runs
in): patient/js/lib/photo.js turns a phone JPEG upright and strips it to the capture time, cse.js
encrypts it with WebCrypto, blob-put.js sends it in one PUT to an upload SAS URL, and
azure-storage-blob's own v2 decryption (through Azurite) gives back a JPEG with no GPS, no EXIF but
the capture time, and the orientation applied.

The modules are served to the page from patient/js by a small loopback HTTP server (a
http://127.0.0.1 origin: a secure context for WebCrypto)."""

from __future__ import annotations

import base64
import io
import threading
from datetime import UTC, datetime, timedelta, timezone
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from azure.storage.blob import BlobClient, BlobServiceClient, CorsRule
from PIL import Image

from shared_code.adapters.blob_store import AzureBlobStore
from shared_code.adapters.local_kek import LocalKekProvider
from tests.e2e.web.helpers import launch
from tests.support.azurite import azurite_fixture
from tests.support.images import MARKER, make_photo

LIB = Path(__file__).resolve().parents[3] / "patient" / "js" / "lib"
EXIF_IFD, GPS_IFD = 0x8769, 0x8825

pytestmark = pytest.mark.browser

azurite = azurite_fixture(scope="module", name="azurite")


class _LibHandler(SimpleHTTPRequestHandler):
    """Serves patient/js (so /lib/cse.js is patient/js/lib/cse.js) and nothing else; quiet."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(LIB.parent), **kwargs)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def origin():
    """A real loopback origin (Chromium lets a loopback page reach loopback storage, as locally)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LibHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def page(origin, playwright_driver):
    browser = launch(playwright_driver)
    context = browser.new_context()
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(origin + "/lib/")
    yield pg
    context.close()
    browser.close()
    assert not errors, errors


PREPARE = """async ([b64, type, options]) => {
  const { preparePhoto } = await import('/lib/photo.js');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  try {
    const out = await preparePhoto(new Blob([bytes], { type }), options || {});
    let s = ''; for (const b of out.jpeg) s += String.fromCharCode(b);
    return { ok: true, jpeg: btoa(s), captureTime: out.captureTime, width: out.width, height: out.height };
  } catch (e) {
    return { ok: false, name: e.name, message: e.message };
  }
}"""

ENCRYPT = """async ([b64, kek]) => {
  const { encryptBlobV2 } = await import('/lib/cse.js');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const { body, metadata } = await encryptBlobV2(bytes, kek);
  let s = ''; for (const b of body) s += String.fromCharCode(b);
  return { body: btoa(s), encryptiondata: metadata.encryptiondata };
}"""


def prepare(page, data: bytes, content_type: str = "image/jpeg", options: dict | None = None) -> dict:
    return page.evaluate(PREPARE, [base64.b64encode(data).decode(), content_type, options])


def test_phone_photo_is_upright_stripped_encrypted_and_the_sdk_decrypts_it(page, azurite, tmp_path):
    taken = datetime(2026, 4, 2, 8, 15, 0, tzinfo=timezone(timedelta(hours=1)))
    source = make_photo(640, 480, orientation=6, captured_at=taken, gps=True, mark_corner=True, seed=71)

    prepared = prepare(page, source)
    assert prepared["ok"], prepared
    assert (prepared["width"], prepared["height"]) == (480, 640)  # orientation 6 applied: portrait
    assert prepared["captureTime"] == "2026-04-02T08:15:00+01:00"

    kek_provider = LocalKekProvider(tmp_path / "kek.pem")
    jwk = kek_provider.public_jwk()
    encrypted = page.evaluate(ENCRYPT, [prepared["jpeg"], {"kid": jwk["kid"], "jwk": jwk}])
    body = base64.b64decode(encrypted["body"])

    BlobServiceClient.from_connection_string(azurite.connection_string).create_container("browser")
    BlobClient.from_connection_string(azurite.connection_string, "browser", "photo").upload_blob(
        body, metadata={"encryptiondata": encrypted["encryptiondata"]}
    )
    reader = BlobClient.from_connection_string(
        azurite.connection_string, "browser", "photo", require_encryption=True, encryption_version="2.0", key_encryption_key=kek_provider.current()
    )
    plaintext = reader.download_blob().readall()
    assert plaintext == base64.b64decode(prepared["jpeg"])

    with Image.open(io.BytesIO(plaintext)) as image:
        assert image.format == "JPEG" and image.size == (480, 640)
        exif = image.getexif()
        assert not exif.get_ifd(GPS_IFD)
        assert set(exif) == {0x0112, EXIF_IFD} and exif[0x0112] == 1
        assert dict(exif.get_ifd(EXIF_IFD)) == {0x9000: b"0231", 0x9003: "2026:04:02 08:15:00", 0x9011: "+01:00"}
        assert [name for name, _ in image.applist] == ["APP1"]
        rgb = image.convert("RGB")
        # The red corner of the stored (sideways) pixels is top-right once turned upright.
        r, g, b = rgb.getpixel((480 - 10, 10))
        assert r > 200 and g < 60 and b < 60, (r, g, b)
        assert rgb.getpixel((10, 10)) != MARKER
    for marker in (b"GPS", b"SkinVaultTestCam", b"xmpmeta", b"ICC_PROFILE"):
        assert marker not in plaintext


def test_png_from_the_gallery_becomes_a_jpeg_with_the_given_capture_time(page):
    prepared = prepare(page, make_photo(300, 200, fmt="PNG", seed=72), "image/png", {"captureTime": "2026-04-02T07:00:00Z"})
    assert prepared["ok"], prepared
    jpeg = base64.b64decode(prepared["jpeg"])
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.format == "JPEG" and image.size == (300, 200)
        assert image.getexif().get_ifd(EXIF_IFD)[0x9003] == "2026:04:02 07:00:00"


def test_heic_is_refused_with_a_plain_message(page):
    prepared = prepare(page, make_photo(64, 48, fmt="HEIC", seed=73), "image/heic")
    assert not prepared["ok"]
    assert prepared["name"] == "PhotoUnreadable"
    assert "HEIC" in prepared["message"] and "Most Compatible" in prepared["message"]


_JPEG = make_photo(320, 240, seed=74)


@pytest.mark.parametrize(
    "data", [b"not a photo at all" * 10, _JPEG[:300], _JPEG[: len(_JPEG) // 2]], ids=["text", "cut-in-headers", "cut-in-image-data"]
)
def test_a_file_that_cannot_be_read_is_refused_with_a_plain_message(page, data):
    prepared = prepare(page, data)
    assert not prepared["ok"]
    assert prepared["name"] == "PhotoUnreadable"
    assert prepared["message"].startswith("This file can't be used.")


def test_a_photo_over_the_pixel_limit_is_refused(page):
    prepared = prepare(page, make_photo(400, 300, seed=75), "image/jpeg", {"maxPixels": 100_000})
    assert not prepared["ok"]
    assert "too big" in prepared["message"]


SEND = """async ([b64, kek, url]) => {
  const { encryptBlobV2 } = await import('/lib/cse.js');
  const { putEncryptedBlob } = await import('/lib/blob-put.js');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const { body, metadata } = await encryptBlobV2(bytes, kek);
  const progress = [];
  const result = await putEncryptedBlob(url, body, metadata.encryptiondata, { onProgress: (loaded, total) => progress.push([loaded, total]) });
  let refused = null;
  try {
    await putEncryptedBlob(url.replace('sig=', 'sig=x'), body, metadata.encryptiondata);
  } catch (e) {
    refused = { name: e.name, status: e.status, sessionRefused: e.sessionRefused };
  }
  return { status: result.status, size: body.length, progress, refused };
}"""


def test_the_browser_sends_the_encrypted_photo_in_one_put_with_progress(page, origin, azurite, tmp_path):
    """XMLHttpRequest from the app's origin to Blob Storage (CORS), as the patient app uploads."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.set_service_properties(
        cors=[CorsRule([origin], ["PUT"], allowed_headers=["x-ms-blob-type", "x-ms-meta-encryptiondata", "content-type"], max_age_in_seconds=60)]
    )
    kek_provider = LocalKekProvider(tmp_path / "kek.pem")
    store = AzureBlobStore.from_connection_string(azurite.connection_string, kek_provider, containers=("sent",))
    service.create_container("sent")
    url = store.upload_url("sent", "p1/img-1", datetime.now(UTC) + timedelta(minutes=10))
    photo = make_photo(2000, 1500, seed=76, captured_at="2026:04:02 08:15:00") + bytes(5 * 1024 * 1024)  # two regions
    jwk = kek_provider.public_jwk()

    sent = page.evaluate(SEND, [base64.b64encode(photo).decode(), {"kid": jwk["kid"], "jwk": jwk}, url])

    assert sent["status"] == 201
    assert sent["progress"] and sent["progress"][-1] == [sent["size"], sent["size"]]
    assert sent["refused"] == {"name": "BlobPutError", "status": 403, "sessionRefused": True}
    reader = BlobClient.from_connection_string(
        azurite.connection_string, "sent", "p1/img-1", require_encryption=True, encryption_version="2.0", key_encryption_key=kek_provider.current()
    )
    assert reader.download_blob().readall() == photo
