"""The patient app's metadata stripping (patient/js/lib/jpeg-meta.js, run in Node) on real phone-like
JPEGs made by Pillow: what comes out has no GPS and no EXIF tag but the capture time (and
Orientation 1), no XMP, ICC or comment, and the same pixels, as Pillow reads them."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.support.images import make_photo

TOOL = Path(__file__).with_name("js_tool.mjs")
NODE = shutil.which("node")
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
ORIENTATION, DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL, EXIF_VERSION = 0x0112, 0x9003, 0x9011, 0x9000

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def strip_with_js(tmp_path: Path, jpeg: bytes) -> bytes:
    (tmp_path / "in.jpg").write_bytes(jpeg)
    result = subprocess.run(
        [NODE or "node", str(TOOL), "strip", tmp_path / "in.jpg", tmp_path / "out.jpg"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return (tmp_path / "out.jpg").read_bytes()


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_stripped_photo_keeps_only_the_capture_time(tmp_path, progressive):
    taken = datetime(2026, 5, 17, 14, 3, 9, tzinfo=timezone(timedelta(hours=1)))
    source = make_photo(800, 600, orientation=1, captured_at=taken, gps=True, seed=61)
    if progressive:
        with Image.open(io.BytesIO(source)) as im:
            out = io.BytesIO()
            im.save(out, "JPEG", quality=90, progressive=True, exif=im.getexif(), icc_profile=im.info["icc_profile"], comment=b"serial 1234")
            source = out.getvalue()
    with Image.open(io.BytesIO(source)) as before:
        assert before.getexif().get_ifd(GPS_IFD), "the source must carry GPS"
        assert before.info.get("icc_profile")

    stripped = strip_with_js(tmp_path, source)

    with Image.open(io.BytesIO(stripped)) as after:
        exif = after.getexif()
        assert dict(exif) == {ORIENTATION: 1, EXIF_IFD: exif[EXIF_IFD]}
        assert not exif.get_ifd(GPS_IFD)
        sub = exif.get_ifd(EXIF_IFD)
        assert sub[DATE_TIME_ORIGINAL] == "2026:05:17 14:03:09"
        assert sub[OFFSET_TIME_ORIGINAL] == "+01:00"
        assert set(sub) == {EXIF_VERSION, DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL}
        for key in ("icc_profile", "xmp", "comment", "jfif", "photoshop", "mp"):
            assert key not in after.info, key
        assert [name for name, _ in after.applist] == ["APP1"]
        with Image.open(io.BytesIO(source)) as before:
            assert after.size == before.size
            assert ImageChops.difference(after.convert("RGB"), before.convert("RGB")).getbbox() is None  # same pixels
    for marker in (b"GPS", b"SkinVaultTestCam", b"Phone 15", b"TestOS", b"xmpmeta", b"ICC_PROFILE", b"serial 1234"):
        assert marker not in stripped, marker


def test_capture_time_read_by_the_app_matches_pillow(tmp_path):
    source = make_photo(320, 240, orientation=8, captured_at="2024:02:29 23:59:59", gps=True, seed=62)
    (tmp_path / "in.jpg").write_bytes(source)
    result = subprocess.run([NODE or "node", str(TOOL), "readexif", tmp_path / "in.jpg"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"orientation": 8, "captureTime": "2024-02-29T23:59:59"}
