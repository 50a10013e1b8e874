"""What leaves the device: stripped photos (no GPS), typed by their magic bytes; non-photos never leave."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from skinvault_client.photo_prep import HEIC, JPEG, PNG, PhotoRefused, content_type_of, prepare_photo
from tests.support.images import make_photo, make_zip, register_heif

GPS_IFD = 0x8825
EXIF_IFD = 0x8769


@pytest.mark.parametrize(("fmt", "expected"), [("JPEG", JPEG), ("PNG", PNG), ("HEIC", HEIC)])
def test_content_type_comes_from_magic_bytes(fmt, expected):
    assert content_type_of(make_photo(64, 48, fmt=fmt)) == expected


def test_content_type_of_non_photos_is_none():
    assert content_type_of(b"hello, I am a text file") is None
    assert content_type_of(make_zip()) is None


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "HEIC"])
def test_prepared_photo_has_no_gps_but_keeps_capture_time(fmt):
    register_heif()
    source = make_photo(320, 240, fmt=fmt, orientation=6 if fmt != "HEIC" else None, captured_at="2026:03:04 05:06:07", gps=True)
    prepared, content_type = prepare_photo(source)
    assert content_type == (PNG if fmt == "PNG" else JPEG)  # HEIC is sent as JPEG
    image = Image.open(io.BytesIO(prepared))
    exif = image.getexif()
    assert not exif.get_ifd(GPS_IFD)
    assert exif.get_ifd(EXIF_IFD).get(0x9003) == "2026:03:04 05:06:07"
    assert b"GPSLatitude" not in prepared and b"SkinVaultTestCam" not in prepared
    if fmt != "HEIC":
        assert exif.get(0x0112) == 6  # orientation survives for the server to apply


def test_text_file_renamed_jpg_is_refused_in_plain_english():
    with pytest.raises(PhotoRefused) as caught:
        prepare_photo(b"Dear doctor, this is not a photo.\n")
    assert caught.value.code == "not-an-image"
    assert "isn't a photo" in caught.value.reason
