"""The photo processing core, on real images made with Pillow / pillow-heif inside the test."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image, ImageFilter, PngImagePlugin

from shared_code.domain.imaging import (
    ADVICE,
    PATIENT_MESSAGES,
    REASON_CODES,
    ImageRejected,
    ProcessedPhoto,
    assess_quality,
    laplacian_variance,
    prepare_for_upload,
    process_photo,
)
from tests.support.images import (
    encode,
    make_animated_png,
    make_bomb_jpeg,
    make_bomb_png,
    make_gif,
    make_photo,
    make_zip,
    render_skin,
    srgb_icc,
    truncate,
)

REPO = Path(__file__).resolve().parents[3]
MAX_PIXELS = 60_000_000
MAX_BYTES = 30 * 1024 * 1024
BST = timezone(timedelta(hours=1))
TAKEN = datetime(2024, 5, 1, 14, 30, 5, tzinfo=BST)

METADATA_MARKERS = (b"Exif", b"GPS", b"<x:xmpmeta", b"SkinVaultTestCam", b"Phone 15", b"http://ns.adobe.com/xap")


def process(data: bytes, **limits) -> ProcessedPhoto:
    limits.setdefault("max_pixels", MAX_PIXELS)
    limits.setdefault("max_bytes", MAX_BYTES)
    return process_photo(data, **limits)


def rejection(data: bytes, **limits) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        process(data, **limits)
    return caught.value


def open_jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()
    return image


def assert_no_metadata(data: bytes) -> None:
    for marker in METADATA_MARKERS:
        assert marker not in data, marker
    image = open_jpeg(data)
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and "xmp" not in image.info and "comment" not in image.info
    assert not [name for name, _ in image.applist if name in ("APP1", "APP13", "COM")]
    assert data.endswith(b"\xff\xd9") and data.count(b"\xff\xd8") == 1  # nothing hidden after the image


def all_outputs(result: ProcessedPhoto) -> tuple[bytes, bytes, bytes]:
    return result.original_jpeg, result.preview_jpeg, result.thumbnail_jpeg


def is_red(rgb: tuple[int, int, int]) -> bool:
    return rgb[0] > 200 and rgb[1] < 70 and rgb[2] < 70


def is_skin(rgb: tuple[int, int, int]) -> bool:
    return rgb[0] > 140 and 90 < rgb[1] < 220 and rgb[2] < rgb[0]


@pytest.fixture(scope="module")
def heic_rotated() -> bytes:
    return make_photo(480, 360, fmt="HEIC", orientation=6, captured_at=TAKEN, mark_corner=True)


# --- orientation, metadata, formats ----------------------------------------------------------------


def test_jpeg_with_orientation_6_is_turned_upright_and_loses_gps_and_all_metadata():
    data = make_photo(400, 300, orientation=6, captured_at=TAKEN, gps=True, mark_corner=True)
    assert b"GPS" in data and b"<x:xmpmeta" in data  # the input really carries them

    result = process(data)

    assert (result.width, result.height) == (300, 400)
    assert result.source_format == "jpeg" and result.original_reencoded
    for output in all_outputs(result):
        assert_no_metadata(output)
        image = open_jpeg(output).convert("RGB")
        assert image.width < image.height
        w, h = image.size
        # The stored top-left corner is shown top-right once Orientation 6 (rotate 90 clockwise) is applied.
        assert is_red(image.getpixel((w - 2, 1)))
        assert is_skin(image.getpixel((1, 1)))
        assert is_skin(image.getpixel((w - 2, h - 2)))
    assert open_jpeg(result.original_jpeg).size == (300, 400)


def test_every_orientation_value_is_applied_like_pillows_exif_transpose():
    from PIL import ImageOps

    for orientation in range(1, 9):
        data = make_photo(120, 80, orientation=orientation, mark_corner=True, gps=False, icc=False)
        expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        result = process(data)
        got = open_jpeg(result.original_jpeg).convert("RGB")
        assert got.size == expected.size == (result.width, result.height), orientation
        corner = [xy for xy in ((1, 1), (got.width - 2, 1), (1, got.height - 2), (got.width - 2, got.height - 2)) if is_red(got.getpixel(xy))]
        expected_corner = [
            xy for xy in ((1, 1), (got.width - 2, 1), (1, got.height - 2), (got.width - 2, got.height - 2)) if is_red(expected.getpixel(xy))
        ]
        assert corner == expected_corner and len(corner) == 1, orientation


@pytest.mark.parametrize("size", [(150, 97), (97, 150), (64, 64), (3, 200)])
def test_turning_a_photo_band_by_band_gives_exactly_the_pixels_of_a_plain_transpose(size):
    """The memory-saving orientation (at most one full copy of the pixels) is pixel-exact."""
    import random

    from shared_code.domain import imaging

    source = Image.frombytes("RGB", size, random.Random(size[0]).randbytes(size[0] * size[1] * 3))
    for orientation in range(1, 9):
        expected = imaging._orient(source.copy(), orientation)
        turned = imaging._orient_releasing([source.copy()], orientation)
        assert (turned.size, turned.tobytes()) == (expected.size, expected.tobytes()), orientation


def test_upright_jpeg_keeps_the_phones_own_image_data_without_reencoding_but_loses_metadata():
    data = make_photo(640, 480, captured_at=TAKEN, gps=True)

    result = process(data)

    assert not result.original_reencoded
    assert_no_metadata(result.original_jpeg)
    assert len(result.original_jpeg) < len(data)
    original_pixels = Image.open(io.BytesIO(data)).convert("RGB").tobytes()
    assert open_jpeg(result.original_jpeg).convert("RGB").tobytes() == original_pixels  # lossless: no generation loss
    # The colour profile is kept (see the module docstring for why).
    profile = Image.open(io.BytesIO(data)).info["icc_profile"]
    assert profile == srgb_icc()
    for output in all_outputs(result):
        assert open_jpeg(output).info.get("icc_profile") == profile


def test_progressive_jpeg_is_also_kept_without_reencoding():
    out = io.BytesIO()
    render_skin(500, 400).save(out, "JPEG", quality=88, progressive=True, exif=Image.Exif())
    data = out.getvalue()
    result = process(data)
    assert not result.original_reencoded
    assert open_jpeg(result.original_jpeg).tobytes() == Image.open(io.BytesIO(data)).tobytes()


def test_images_appended_after_the_end_of_a_jpeg_such_as_gain_maps_are_dropped():
    secondary = make_photo(64, 48, gps=True)  # an MPF-style second image with its own EXIF and GPS
    primary = make_photo(320, 240, gps=False)
    result = process(primary + secondary)
    assert_no_metadata(result.original_jpeg)
    assert (result.width, result.height) == (320, 240)


def test_capture_time_comes_from_date_time_original_with_its_offset():
    assert process(make_photo(200, 150, captured_at=TAKEN)).captured_at == "2024-05-01T14:30:05+01:00"
    assert process(make_photo(200, 150, captured_at="2023:12:31 23:59:59")).captured_at == "2023-12-31T23:59:59"
    assert process(make_photo(200, 150, captured_at=None)).captured_at is None
    assert process(make_photo(200, 150, captured_at="0000:00:00 00:00:00")).captured_at is None


def test_png_is_accepted_oriented_and_converted_to_jpeg_without_its_text_or_exif():
    data = make_photo(400, 300, fmt="PNG", orientation=6, captured_at=TAKEN, gps=True, mark_corner=True)
    assert b"tEXt" in data and b"eXIf" in data

    result = process(data)

    assert result.source_format == "png" and result.original_reencoded
    assert (result.width, result.height) == (300, 400)
    assert result.captured_at == "2024-05-01T14:30:05+01:00"
    for output in all_outputs(result):
        assert_no_metadata(output)
        assert b"Taken with" not in output
    image = open_jpeg(result.preview_jpeg).convert("RGB")
    assert is_red(image.getpixel((image.width - 2, 1)))


def test_transparent_png_is_flattened_onto_white():
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste(render_skin(100, 100).convert("RGBA"), (0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    preview = open_jpeg(process(out.getvalue()).preview_jpeg).convert("RGB")
    assert preview.mode == "RGB"
    assert all(channel > 245 for channel in preview.getpixel((190, 50)))
    assert is_skin(preview.getpixel((10, 50)))


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped_to_white():
    image = Image.new("I;16", (64, 64), 32768)  # mid grey in 16 bits
    out = io.BytesIO()
    image.save(out, "PNG")
    grey = open_jpeg(process(out.getvalue()).preview_jpeg).convert("RGB").getpixel((32, 32))
    assert all(115 < channel < 140 for channel in grey)


def test_cmyk_jpeg_is_converted_to_rgb():
    out = io.BytesIO()
    render_skin(300, 200).convert("CMYK").save(out, "JPEG", quality=90)
    result = process(out.getvalue())
    assert result.original_reencoded
    for output in all_outputs(result):
        image = open_jpeg(output)
        assert image.mode == "RGB"
        assert is_skin(image.getpixel((5, image.height // 2)))


def test_heic_from_an_iphone_is_converted_to_an_upright_jpeg_without_metadata(heic_rotated):
    assert heic_rotated[4:12] == b"ftypheic"

    result = process(heic_rotated)

    assert result.source_format == "heic" and result.original_reencoded
    assert (result.width, result.height) == (360, 480)
    assert result.captured_at == "2024-05-01T14:30:05+01:00"
    for output in all_outputs(result):
        assert output[:3] == b"\xff\xd8\xff"
        assert_no_metadata(output)
    image = open_jpeg(result.original_jpeg).convert("RGB")
    assert image.size == (360, 480)
    assert is_red(image.getpixel((image.width - 3, 2)))
    assert is_skin(image.getpixel((2, 2)))


# --- sizes -----------------------------------------------------------------------------------------


def test_preview_is_1600_and_thumbnail_256_on_the_longest_side():
    result = process(make_photo(2400, 1800))
    assert open_jpeg(result.preview_jpeg).size == (1600, 1200)
    assert open_jpeg(result.thumbnail_jpeg).size == (256, 192)
    assert open_jpeg(result.original_jpeg).size == (2400, 1800)


def test_portrait_sizes_follow_the_orientation():
    result = process(make_photo(2000, 1000, orientation=8))
    assert (result.width, result.height) == (1000, 2000)
    assert open_jpeg(result.preview_jpeg).size == (800, 1600)
    assert open_jpeg(result.thumbnail_jpeg).size == (128, 256)


def test_small_photo_is_never_upscaled():
    result = process(make_photo(300, 200))
    assert open_jpeg(result.preview_jpeg).size == (300, 200)
    assert open_jpeg(result.thumbnail_jpeg).size == (256, 171)
    tiny = process(make_photo(100, 60))
    assert open_jpeg(tiny.thumbnail_jpeg).size == (100, 60)


# --- quality ---------------------------------------------------------------------------------------


def test_sharp_photo_has_no_quality_flags():
    result = process(make_photo(1600, 1200, seed=4))
    assert result.quality.flags == ()
    assert result.quality.blur_score > 100


def test_blurred_photo_is_flagged_with_plain_english_advice():
    blurred = encode(render_skin(1600, 1200, seed=4).filter(ImageFilter.GaussianBlur(4)))
    quality = process(blurred).quality
    assert quality.codes == ["blurry"]
    assert quality.flags[0].advice == ADVICE["blurry"]
    assert "Hold the phone still" in quality.to_dict()["flags"][0]["advice"]


def test_blur_score_falls_as_blur_grows():
    sharp = render_skin(1000, 750, seed=2)
    scores = [assess_quality(sharp.filter(ImageFilter.GaussianBlur(r)) if r else sharp).blur_score for r in (0, 0.7, 1.5, 3)]
    assert scores == sorted(scores, reverse=True)


def test_dark_photo_is_flagged_too_dark():
    dark = render_skin(800, 600).point(lambda v: v // 6)
    quality = process(encode(dark)).quality
    assert "too-dark" in quality.codes and "too-bright" not in quality.codes
    assert quality.brightness < 45
    assert "brighter" in next(f.advice for f in quality.flags if f.code == "too-dark")


def test_bright_photo_is_flagged_too_bright():
    bright = render_skin(800, 600).point(lambda v: min(255, v * 2))
    quality = process(encode(bright)).quality
    assert quality.codes == ["too-bright"]
    assert "flash" in quality.flags[0].advice


def test_well_exposed_dark_skin_is_not_called_too_dark():
    from PIL import ImageChops

    darker_skin = ImageChops.multiply(render_skin(800, 600), Image.new("RGB", (800, 600), (110, 95, 90)))
    quality = process(encode(darker_skin)).quality
    assert 45 < quality.brightness < 90
    assert "too-dark" not in quality.codes


def test_laplacian_variance_is_zero_for_a_flat_image_and_high_for_a_checkerboard():
    assert laplacian_variance(Image.new("L", (50, 50), 128)) == 0.0
    board = Image.new("L", (50, 50))
    board.putdata([255 * ((x + y) % 2) for y in range(50) for x in range(50)])
    assert laplacian_variance(board) > 10_000


# --- rejection -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("text", lambda: b"Dear doctor, here is my mole.\n" * 20, "not-an-image"),
        ("empty", lambda: b"", "not-an-image"),
        ("zip", make_zip, "not-an-image"),
        ("pdf", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not-an-image"),
        ("gif", make_gif, "unsupported-type"),
        ("animated png", make_animated_png, "unsupported-type"),
        ("truncated jpeg", lambda: truncate(make_photo(400, 300), 0.6), "corrupt"),
        ("truncated png", lambda: truncate(make_photo(200, 150, fmt="PNG"), 0.7), "corrupt"),
        ("jpeg header only", lambda: make_photo(200, 150)[:600], "corrupt"),
    ],
)
def test_files_that_are_not_acceptable_photos_are_rejected_with_a_reason(name, make, code):
    error = rejection(make())
    assert error.reason_code == code, name
    assert error.patient_message
    assert error.patient_message == PATIENT_MESSAGES[code] or code == "unsupported-type"


def test_webp_and_tiff_are_unsupported_types():
    for fmt in ("WEBP", "TIFF", "BMP"):
        out = io.BytesIO()
        render_skin(64, 48).save(out, fmt)
        assert rejection(out.getvalue()).reason_code == "unsupported-type", fmt


def test_truncated_heic_is_corrupt(heic_rotated):
    assert rejection(truncate(heic_rotated, 0.5)).reason_code == "corrupt"


def test_damaged_png_checksum_is_corrupt():
    data = bytearray(make_photo(100, 80, fmt="PNG"))
    idat = data.index(b"IDAT")
    data[idat + 20] ^= 0xFF
    assert rejection(bytes(data)).reason_code == "corrupt"


def test_every_reason_has_a_plain_english_message_for_the_patient():
    for code in REASON_CODES:
        message = ImageRejected(code).patient_message
        assert message.endswith(".") and "Please" in message
        for jargon in ("EXIF", "decode", "pixel", "MIME", "exception", "bytes"):
            assert jargon not in message, (code, jargon)
    assert "isn't a photo we can open" in PATIENT_MESSAGES["not-an-image"]


def test_file_larger_than_max_bytes_is_refused():
    data = make_photo(300, 200)
    assert rejection(data, max_bytes=len(data) - 1).reason_code == "too-large"
    assert process(data, max_bytes=len(data)).width == 300


def test_photo_above_the_pixel_cap_is_refused_and_one_at_the_cap_accepted():
    data = make_photo(1200, 1000)
    assert rejection(data, max_pixels=1_199_999).reason_code == "too-many-pixels"
    assert process(data, max_pixels=1_200_000).width == 1200
    png = make_photo(1200, 1000, fmt="PNG")
    assert rejection(png, max_pixels=1_000_000).reason_code == "too-many-pixels"


def test_heic_above_the_pixel_cap_is_refused(heic_rotated):
    assert rejection(heic_rotated, max_pixels=100_000).reason_code == "too-many-pixels"


def test_decompression_bomb_png_is_refused_before_any_pixel_is_allocated():
    bomb = make_bomb_png(20_000, 20_000)  # 400 MP of one colour in a few tens of KB
    assert len(bomb) < 100_000
    pillow_limit = Image.MAX_IMAGE_PIXELS

    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no DecompressionBombWarning (or any other) escapes
            error = rejection(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert error.reason_code == "too-many-pixels"
    assert peak < 2_000_000
    assert Image.MAX_IMAGE_PIXELS == pillow_limit  # no global side effect


def test_bomb_between_pillows_warning_and_error_limits_is_refused_quietly():
    bomb = make_bomb_png(10_000, 10_000)  # 100 MP: Pillow alone would only warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rejection(bomb).reason_code == "too-many-pixels"


def test_jpeg_header_claiming_billions_of_pixels_is_refused():
    assert rejection(make_bomb_jpeg(60_000, 60_000)).reason_code == "too-many-pixels"


def test_decompression_bomb_does_not_raise_the_process_memory_high_water_mark():
    # Pillow allocates pixels with C malloc, which tracemalloc cannot see: measure the process instead.
    script = textwrap.dedent(
        """
        import json, resource
        from shared_code.domain.imaging import ImageRejected, process_photo
        from tests.support.images import make_bomb_png
        bomb = make_bomb_png(20_000, 20_000)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            process_photo(bomb, max_pixels=60_000_000, max_bytes=30_000_000)
            code = None
        except ImageRejected as error:
            code = error.reason_code
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"code": code, "grew_kib": after - before}))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == "too-many-pixels"
    assert report["grew_kib"] < 20 * 1024  # decoding would need ~400 MB


# --- prepare_for_upload ----------------------------------------------------------------------------


def test_prepare_for_upload_drops_gps_but_keeps_orientation_and_capture_time_without_reencoding():
    data = make_photo(400, 300, orientation=6, captured_at=TAKEN, gps=True) + make_photo(32, 24, gps=True)

    prepared = prepare_for_upload(data)

    for marker in (b"GPS", b"<x:xmpmeta", b"SkinVaultTestCam", b"Phone 15", b"Taken with"):
        assert marker not in prepared, marker
    image = Image.open(io.BytesIO(prepared))
    exif = image.getexif()
    assert dict(exif) == {0x0112: 6, 0x8769: exif[0x8769]}
    assert dict(exif.get_ifd(0x8769)) == {0x9003: "2024:05:01 14:30:05", 0x9011: "+01:00"}
    assert exif.get_ifd(0x8825) == {}
    assert image.info.get("icc_profile") == srgb_icc()
    assert image.tobytes() == Image.open(io.BytesIO(data)).tobytes()  # same pixels, not re-encoded
    assert prepared.endswith(b"\xff\xd9") and prepared.count(b"\xff\xd8") == 1

    # And the server then orients it and records the capture time.
    result = process(prepared)
    assert (result.width, result.height) == (300, 400)
    assert result.captured_at == "2024-05-01T14:30:05+01:00"


def test_prepare_for_upload_without_orientation_or_time_writes_no_exif_at_all():
    prepared = prepare_for_upload(make_photo(200, 150, gps=True))
    assert b"Exif" not in prepared and b"GPS" not in prepared
    assert dict(Image.open(io.BytesIO(prepared)).getexif()) == {}


def test_prepare_for_upload_png_drops_text_and_keeps_a_minimal_exif():
    data = make_photo(200, 150, fmt="PNG", orientation=3, captured_at="2024:02:03 04:05:06", gps=True)

    prepared = prepare_for_upload(data)

    chunks = []
    pos = 8
    while pos < len(prepared):
        length = struct.unpack(">I", prepared[pos : pos + 4])[0]
        chunks.append(prepared[pos + 4 : pos + 8])
        pos += 12 + length
    assert not {b"tEXt", b"zTXt", b"iTXt"} & set(chunks)
    assert chunks.count(b"eXIf") == 1 and chunks.index(b"eXIf") < chunks.index(b"IDAT")
    assert b"GPS" not in prepared and b"SkinVaultTestCam" not in prepared
    image = Image.open(io.BytesIO(prepared))
    image.load()
    assert image.getexif()[0x0112] == 3
    assert image.getexif().get_ifd(0x8769) == {0x9003: "2024:02:03 04:05:06"}
    assert image.tobytes() == Image.open(io.BytesIO(data)).tobytes()
    assert process(prepared).captured_at == "2024-02-03T04:05:06"


def test_prepare_for_upload_converts_heic_to_an_upright_jpeg_with_its_capture_time(heic_rotated):
    prepared = prepare_for_upload(heic_rotated)

    assert prepared[:3] == b"\xff\xd8\xff"
    assert b"GPS" not in prepared and b"<x:xmpmeta" not in prepared
    image = Image.open(io.BytesIO(prepared))
    assert image.size == (360, 480)
    exif = image.getexif()
    assert 0x0112 not in exif  # the pixels are already upright
    assert exif.get_ifd(0x8769)[0x9003] == "2024:05:01 14:30:05"
    assert is_red(image.convert("RGB").getpixel((image.width - 3, 2)))


def test_prepare_for_upload_refuses_what_the_server_would_refuse():
    with pytest.raises(ImageRejected) as caught:
        prepare_for_upload(make_gif())
    assert caught.value.reason_code == "unsupported-type"
    with pytest.raises(ImageRejected) as caught:
        prepare_for_upload(make_bomb_png())
    assert caught.value.reason_code == "too-many-pixels"
    with pytest.raises(ImageRejected) as caught:
        prepare_for_upload(truncate(make_photo(200, 150)))
    assert caught.value.reason_code == "corrupt"


def test_png_text_chunk_helper_really_writes_metadata():
    # Guards the other tests: the generated PNG does carry text and EXIF before stripping.
    image = Image.open(io.BytesIO(make_photo(50, 40, fmt="PNG", captured_at=TAKEN)))
    image.load()
    assert isinstance(image, PngImagePlugin.PngImageFile)
    assert "Comment" in image.text and image.getexif().get_ifd(0x8825)


def test_avif_is_unsupported_and_a_phone_video_is_not_an_image():
    avif = struct.pack(">I", 28) + b"ftypavif" + b"\x00\x00\x00\x00" + b"avifmif1miaf" + b"\x00" * 64
    video = struct.pack(">I", 24) + b"ftypqt  " + b"\x00\x00\x02\x00" + b"qt  mp41" + b"\x00" * 64
    assert rejection(avif).reason_code == "unsupported-type"
    assert rejection(video).reason_code == "not-an-image"


def test_unreadable_exif_is_dropped_without_rejecting_the_photo():
    good = make_photo(200, 150, gps=False)
    garbage = b"Exif\x00\x00II*\x00\xff\xff\xff\x7f" + b"\x13" * 40
    broken = good[:2] + b"\xff\xe1" + struct.pack(">H", len(garbage) + 2) + garbage + good[2:]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's "Corrupt EXIF data" warning stays inside
        result = process(broken)
    assert result.captured_at is None and (result.width, result.height) == (200, 150)
    assert_no_metadata(result.original_jpeg)
