"""The patient app on a phone: photos from the gallery and the live camera, encrypted on the phone,
sent, and ready; what leaves the phone is checked by decrypting it with the local KEK."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from azure.storage.blob import BlobClient, BlobServiceClient
from PIL import Image

from shared_code.adapters.local_kek import LocalKekProvider
from tests.e2e.patient.helpers import PASSCODE, new_folder, serve_demo_users, sign_in, unique_patient, wait_photo_status, wait_view
from tests.support.images import make_photo

pytestmark = pytest.mark.browser

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
ORIENTATION = 0x0112


def capture_puts(page, stack) -> list[dict]:
    """Let every upload PUT through to Azurite, keeping a copy of its body and headers."""
    seen: list[dict] = []
    blob_host = f"http://127.0.0.1:{stack.azurite.blob_port}/**"

    def handle(route):
        req = route.request
        if req.method == "PUT":
            seen.append({"url": req.url, "body": req.post_data_buffer, "headers": req.headers})
        route.continue_()

    page.route(blob_host, handle)
    return seen


def decrypt_with_local_kek(stack, body: bytes, encryptiondata: str) -> bytes:
    """azure-storage-blob's own v2 decryption, with the stack's local KEK."""
    service = BlobServiceClient.from_connection_string(stack.azurite.connection_string)
    container = "app-put-check"
    if not service.get_container_client(container).exists():
        service.create_container(container)
    name = uuid.uuid4().hex
    BlobClient.from_connection_string(stack.azurite.connection_string, container, name).upload_blob(body, metadata={"encryptiondata": encryptiondata})
    kek = LocalKekProvider(stack.workdir / "kek.pem").current()
    reader = BlobClient.from_connection_string(
        stack.azurite.connection_string, container, name, require_encryption=True, encryption_version="2.0", key_encryption_key=kek
    )
    return reader.download_blob().readall()


def test_gallery_photo_with_gps_is_stripped_encrypted_sent_and_ready(page, stack):
    user = unique_patient()
    serve_demo_users(page, [user])
    puts = capture_puts(page, stack)
    sign_in(page, stack.base_url, user)
    new_folder(page, "Mole on left forearm")

    taken = datetime(2026, 5, 3, 9, 30, 0, tzinfo=timezone(timedelta(hours=1)))
    photo = make_photo(1200, 900, orientation=6, captured_at=taken, gps=True, mark_corner=True, seed=11)
    page.set_input_files("#gallery", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    wait_photo_status(page, "ready")

    assert len(puts) == 1, "one photo, one PUT"
    put = puts[0]
    assert put["headers"]["x-ms-blob-type"] == "BlockBlob"
    assert b"\xff\xd8\xff" not in put["body"][:64], "the body is ciphertext, not a JPEG"
    plaintext = decrypt_with_local_kek(stack, put["body"], put["headers"]["x-ms-meta-encryptiondata"])
    with Image.open(io.BytesIO(plaintext)) as image:
        assert image.format == "JPEG"
        assert image.size == (900, 1200), "orientation 6 applied on the phone: portrait pixels"
        exif = image.getexif()
        assert not exif.get_ifd(GPS_IFD), "no GPS"
        assert set(exif) == {ORIENTATION, EXIF_IFD} and exif[ORIENTATION] == 1
        assert exif.get_ifd(EXIF_IFD).get(0x9003) == "2026:05:03 09:30:00", "the capture time is kept"
        r, g, b = image.convert("RGB").getpixel((900 - 10, 10))
        assert r > 200 and g < 60 and b < 60, "the stored top-left corner is top-right once upright"
    for marker in (b"GPS", b"SkinVaultTestCam", b"xmpmeta"):
        assert marker not in plaintext

    item = page.locator("li.app-timeline__item[data-status='ready']").first
    assert "3 May 2026" in item.inner_text()
    item.locator("img[data-state='loaded']").wait_for()


def test_camera_photo_with_the_last_photo_as_overlay_becomes_ready(page, stack):
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, stack.base_url, user)
    new_folder(page, "Patch on back", site="back")
    page.set_input_files("#gallery", files=[{"name": "first.jpg", "mimeType": "image/jpeg", "buffer": make_photo(1200, 900, seed=3, gps=False)}])
    wait_photo_status(page, "ready")

    page.get_by_role("button", name="Take photo").click()
    wait_view(page, "camera")
    page.wait_for_selector(".app-camera__stage[data-camera='live']")
    page.wait_for_selector(".app-camera__stage[data-overlay='shown'] img.app-camera__overlay[data-state='loaded']")
    assert page.locator("img.app-camera__overlay").is_visible()
    assert page.evaluate("() => getComputedStyle(document.querySelector('.app-camera__overlay')).opacity") == "0.4"
    assert page.get_by_text("Hold the phone 15 to 30cm").is_visible()
    page.get_by_test_id("shutter").click()
    page.get_by_text("Photo kept").wait_for()
    page.get_by_role("link", name="Done").click()
    wait_view(page, "folder")
    wait_photo_status(page, "ready", count=2)


def test_a_file_the_app_cannot_read_is_refused_on_the_phone_in_plain_words(page, stack):
    user = unique_patient()
    serve_demo_users(page, [user])
    puts = capture_puts(page, stack)
    sign_in(page, stack.base_url, user)
    new_folder(page, "Scar")
    page.set_input_files(
        "#gallery", files=[{"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0 this is not really a photo"}]
    )
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "This file can't be used" in alert.inner_text()
    assert puts == [] and page.get_by_test_id("outbox").is_hidden()


def test_photo_notes_rating_and_delete(page, stack):
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, stack.base_url, user)
    folder_id = new_folder(page, "Psoriasis on elbow", site="left-elbow")
    page.set_input_files("#gallery", files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": make_photo(1000, 750, seed=21, gps=False)}])
    wait_photo_status(page, "ready")
    page.locator("li.app-timeline__item a").first.click()
    wait_view(page, "photo")
    page.locator("img.app-photo[data-state='loaded']").wait_for()
    page.get_by_label("Notes").fill("Itchier this week")
    page.get_by_label("Treatment at the time (optional)").fill("Emollient twice a day")
    page.get_by_label("How does it look compared with before?").select_option("7")
    page.get_by_role("button", name="Save notes").click()
    page.get_by_text("Saved.").wait_for()
    page.reload()  # the passcode key lives in memory only: unlock, and come back to this photo
    wait_view(page, "unlock")
    page.get_by_label("Passcode", exact=True).fill(PASSCODE)
    page.get_by_role("button", name="Unlock").click()
    wait_view(page, "photo")
    assert page.get_by_label("Notes").input_value() == "Itchier this week"
    assert page.get_by_label("Treatment at the time (optional)").input_value() == "Emollient twice a day"
    assert page.get_by_label("How does it look compared with before?").input_value() == "7"
    page.get_by_role("button", name="Delete this photo").click()
    page.get_by_role("button", name="Yes, delete it").click()
    wait_view(page, "folder")
    assert page.url.endswith(f"folder={folder_id}")
    assert page.locator("li.app-timeline__item").count() == 0


def test_profile_names_date_of_birth_nhs_number_and_email(page, stack):
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, stack.base_url, user)
    page.get_by_role("link", name="Your details").click()
    wait_view(page, "profile")
    page.get_by_label("First name").fill("Jo")
    page.get_by_label("Last name").fill("Bloggs")
    page.get_by_label("Date of birth").fill("1980-02-29")
    page.get_by_label("NHS number (optional)").fill("943 476 5871")
    page.get_by_label("Email address (optional)").fill("jo@example.com")
    page.get_by_role("button", name="Save details").click()
    page.locator("div.nhsuk-form-group--error").first.wait_for()
    assert "Enter a valid NHS number" in page.inner_text("main")
    page.get_by_label("NHS number (optional)").fill("943 476 5919")
    page.get_by_role("button", name="Save details").click()
    page.get_by_text("Your details have been saved.").wait_for()
    me = httpx.get(
        f"{stack.base_url}/api/me", headers={"Authorization": f"Bearer {stack.token(user['sub'], 'patient', user['name'])}"}, timeout=30
    ).json()
    assert (me["givenName"], me["familyName"], me["displayName"]) == ("Jo", "Bloggs", "Jo Bloggs")
    assert (me["dateOfBirth"], me["nhsNumber"], me["email"]) == ("1980-02-29", "9434765919", "jo@example.com")
