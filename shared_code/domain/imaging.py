"""Photo processing core: bytes in, bytes out. No I/O beyond memory, no logging, no globals changed.

Used by the upload blob trigger (:func:`process_photo`) and by the phone/CLI before it encrypts
(:func:`prepare_for_upload`).

What :func:`process_photo` does, in order
-----------------------------------------
1. Refuses more than ``max_bytes`` (``too-large``).
2. Identifies the type from its magic bytes: JPEG, PNG or HEIC/HEIF are accepted; GIF, BMP, TIFF,
   WebP, AVIF, JPEG 2000, JPEG XL and PSD are ``unsupported-type``; anything else is
   ``not-an-image``.
3. Walks the container structure itself (JPEG segments up to EOI, PNG chunks with their CRCs up to
   IEND). A file that ends early or breaks the structure is ``corrupt``, whatever
   ``ImageFile.LOAD_TRUNCATED_IMAGES`` another caller set.
4. Refuses more than ``max_pixels`` from the *header* (JPEG SOF, PNG IHDR, HEIF ``ispe`` via
   pillow-heif) before a single pixel is decoded: decompression bombs never allocate their pixels
   (``too-many-pixels``). Pillow's own bomb guard (``Image.MAX_IMAGE_PIXELS``) is left as it is:
   its warning is silenced only around our ``Image.open`` (``warnings.catch_warnings``) and its error
   is mapped to ``too-many-pixels`` too. Note: a ``max_pixels`` above ``2 * Image.MAX_IMAGE_PIXELS``
   (~179 MP with Pillow's default) is capped by Pillow. (``catch_warnings`` swaps the process-wide
   warning filters for the duration; with threads that can at worst hide or show a warning.)
5. Refuses animated/multi-frame files (APNG, multi-image HEIF) as ``unsupported-type``. A JPEG's
   MPF secondary images (gain maps, depth maps that phones append after the first EOI) are not
   frames: they are cut off with the rest of the metadata and the primary image is used.
6. Decodes the pixels (which is the real verification); decoder errors are ``corrupt``.
7. Applies the EXIF orientation (JPEG, PNG ``eXIf``). HEIF carries orientation as ``irot``/``imir``
   boxes, which libheif applies while decoding (pillow-heif then resets the EXIF tag to 1), so it is
   not applied twice.
8. Converts to 8-bit RGB: CMYK through its ICC profile when it has one, alpha flattened onto white,
   16-bit greyscale scaled (not clipped), palettes expanded.
9. Produces three JPEGs with no EXIF, XMP, IPTC, comments, MPF images or embedded thumbnails:

   - ``original_jpeg``. For a baseline/progressive 8-bit JPEG (YCbCr or greyscale) that needs no
     rotation, the uploaded JPEG itself with its metadata segments removed and *no re-encoding*:
     the entropy-coded data is byte-for-byte what the phone wrote, so no generation loss. Kept
     segments: the coding tables (SOF/DHT/DQT/DRI/SOS/...), APP0 JFIF (its thumbnail removed),
     APP2 ICC_PROFILE and APP14 Adobe (colour transform). Everything else (APP1 Exif/XMP, APP13
     IPTC/Photoshop, other APPn, COM, anything after EOI) is dropped. Otherwise (orientation to
     apply, PNG, HEIC, CMYK, arithmetic/lossless JPEG) the pixels are re-encoded at quality 92.
   - ``preview_jpeg``: longest side 1600 (never upscaled), quality 85.
   - ``thumbnail_jpeg``: longest side 256 (never upscaled), quality 80.

   Decision on ICC profiles: an RGB ICC profile is **kept** in all three outputs. Colour matters
   clinically (erythema, pigment) and iPhones shoot in Display P3: dropping the profile would make
   every iPhone photo look washed out. A profile describes the colour space, not the patient or the
   place; non-RGB profiles (CMYK, grey) are dropped once the pixels are RGB.
10. Scores quality on a greyscale copy of the preview scaled to at most 1024 px: ``blur_score`` is
    the variance of the 4-neighbour Laplacian (Pillow kernel filters, no numpy), ``brightness`` the
    mean luma 0-255; flags ``blurry``, ``too-dark``, ``too-bright`` come with plain-English advice.

Speed: for an upright JPEG the full-resolution pixels are never materialised: ``Image.draft`` makes
libjpeg decode at 1/2, 1/4 or 1/8 scale (still reading the whole entropy stream, so a damaged file
is still caught) straight to at least the preview size; other images are first shrunk with a box
``reduce`` by the same whole factor, then Lanczos-resampled.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, cast

from PIL import Image, ImageFilter, ImageStat, UnidentifiedImageError

from shared_code.domain.vocabulary import QualityFlagCode

DEFAULT_MAX_PIXELS = 60_000_000
THUMBNAIL_SIDE = 256
PREVIEW_SIDE = 1600
ORIGINAL_QUALITY = 92
PREVIEW_QUALITY = 85
THUMBNAIL_QUALITY = 80
ANALYSIS_SIDE = 1024
CONTENT_TYPE = "image/jpeg"

# --- rejection ------------------------------------------------------------------------------------

NOT_AN_IMAGE = "not-an-image"
UNSUPPORTED_TYPE = "unsupported-type"
TOO_MANY_PIXELS = "too-many-pixels"
TOO_LARGE = "too-large"
CORRUPT = "corrupt"
REASON_CODES = (NOT_AN_IMAGE, UNSUPPORTED_TYPE, TOO_MANY_PIXELS, TOO_LARGE, CORRUPT)

PATIENT_MESSAGES = {
    NOT_AN_IMAGE: "This file isn't a photo we can open. Please take the photo again with your phone's camera.",
    UNSUPPORTED_TYPE: (
        "We can't use this type of picture. Please take a photo with your phone's camera and send that instead (we accept JPEG, PNG and HEIC photos)."
    ),
    TOO_MANY_PIXELS: (
        "This photo is too big for us to process. Please take it again with your phone's normal camera settings, "
        "not a panorama or very high resolution mode."
    ),
    TOO_LARGE: "This file is too large to upload. Please take the photo again with your phone's normal camera settings.",
    CORRUPT: "This photo seems to be damaged or didn't upload completely. Please take it again and send it.",
}
ANIMATED_MESSAGE = "This looks like a moving picture or a set of pictures. Please send a single still photo of your skin."


class ImageRejected(Exception):
    """The upload is not a photo we accept. ``reason_code`` is one of REASON_CODES.

    ``patient_message`` is plain English for the patient; ``detail`` is technical, for logs (it
    never contains image content or anything about the patient).
    """

    def __init__(self, reason_code: str, detail: str = "", *, patient_message: str | None = None) -> None:
        if reason_code not in REASON_CODES:
            raise ValueError(f"unknown reason code {reason_code!r}")
        super().__init__(f"{reason_code}: {detail}" if detail else reason_code)
        self.reason_code = reason_code
        self.detail = detail
        self.patient_message = patient_message or PATIENT_MESSAGES[reason_code]


# --- results --------------------------------------------------------------------------------------

BLURRY = QualityFlagCode.BLURRY.value
TOO_DARK = QualityFlagCode.TOO_DARK.value
TOO_BRIGHT = QualityFlagCode.TOO_BRIGHT.value

ADVICE = {
    BLURRY: "The photo looks blurred. Hold the phone still, tap the skin on screen to focus, and take it again in good light.",
    TOO_DARK: "The photo looks too dark to see the skin clearly. Move somewhere brighter, such as near a window in daylight, and take it again.",
    TOO_BRIGHT: "The photo looks too bright, so some detail is lost. Turn the flash off, move out of direct sunlight, and take it again.",
}


@dataclass(frozen=True)
class QualityThresholds:
    """Where the quality flags trip. The defaults are deliberately lenient.

    blur: Laplacian variance (at most 1024 px) below which a photo is "blurry". Calibrated on the
        synthetic skin photos of tests/support/images.py only: sharp ones score ~100-2000, a Gaussian
        blur of about 1 px at analysis scale brings them under ~15. Re-tune on real (consented) photos.
    dark/bright: a photo is too dark when its mean luma is below ``dark_mean`` or more than
        ``dark_fraction`` of it is crushed black (<= ``dark_level``); too bright likewise with blown
        highlights. ``dark_mean`` is low on purpose so well-exposed dark skin is not flagged.
    """

    blur: float = 25.0
    dark_mean: float = 45.0
    dark_level: int = 16
    dark_fraction: float = 0.5
    bright_mean: float = 225.0
    bright_level: int = 250
    bright_fraction: float = 0.25


DEFAULT_THRESHOLDS = QualityThresholds()


@dataclass(frozen=True)
class QualityFlag:
    code: str
    advice: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "advice": self.advice}


@dataclass(frozen=True)
class QualityReport:
    blur_score: float  # variance of the Laplacian; higher is sharper
    brightness: float  # mean luma, 0 (black) .. 255 (white)
    flags: tuple[QualityFlag, ...] = ()

    @property
    def codes(self) -> list[str]:
        return [flag.code for flag in self.flags]

    def to_dict(self) -> dict[str, Any]:
        return {
            "blurScore": round(self.blur_score, 2),
            "brightness": round(self.brightness, 1),
            "flags": [flag.to_dict() for flag in self.flags],
        }


@dataclass(frozen=True)
class ProcessedPhoto:
    original_jpeg: bytes
    thumbnail_jpeg: bytes
    preview_jpeg: bytes
    width: int  # of the original, after orientation
    height: int
    captured_at: str | None  # EXIF DateTimeOriginal as ISO 8601 (with its offset when the camera wrote one)
    source_format: str  # "jpeg" | "png" | "heic"
    quality: QualityReport
    original_reencoded: bool = field(default=True)  # False: the phone's own JPEG data, metadata removed
    content_type: str = CONTENT_TYPE


# --- public API -----------------------------------------------------------------------------------


def process_photo(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
) -> ProcessedPhoto:
    """Verify, orient, strip, resize and score one uploaded photo (see the module docstring).

    Raises ImageRejected; any other exception is a bug (or MemoryError).
    """
    if max_pixels <= 0 or max_bytes <= 0:
        raise ValueError("max_pixels and max_bytes must be positive")
    data = bytes(data)
    if len(data) > max_bytes:
        raise ImageRejected(TOO_LARGE, f"{len(data)} bytes > {max_bytes}")
    fmt = detect_format(data)
    # From here on only `held` refers to the bytes, so a path can let go of them as soon as it has
    # what it needs (a caller passing them inline keeps no reference of its own).
    held = [data]
    del data
    if fmt == "jpeg":
        return _process_jpeg(held, max_pixels, thresholds)
    if fmt == "png":
        return _process_png(held.pop(), max_pixels, thresholds)
    return _process_heic(held.pop(), max_pixels, thresholds)


def prepare_for_upload(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """Strip a photo on the phone/CLI before it is encrypted and uploaded.

    Keeps only EXIF Orientation and DateTimeOriginal (+ OffsetTimeOriginal); drops GPS, camera
    make/model/serial, maker notes, XMP, IPTC, comments, embedded thumbnails and MPF images.

    - JPEG: no re-encoding. The metadata segments are removed as in ``process_photo`` (ICC, JFIF and
      Adobe segments are kept) and one minimal APP1 Exif segment is written with just those tags (none
      at all when the photo had none of them). Everything after the first EOI is dropped.
    - PNG: no re-encoding. Chunks are copied verbatim except text (tEXt/zTXt/iTXt), eXIf, tIME and any
      private/unknown chunk; a minimal eXIf with the kept tags is written before the first IDAT when
      there is something to keep. Animated PNGs are refused (the server would refuse them too).
    - HEIC/HEIF: decoded (libheif applies its rotation boxes) and re-encoded as JPEG quality 92 with
      the ICC profile and a minimal EXIF holding only the capture time; there is no orientation tag to
      keep because the pixels are already upright.

    The same ImageRejected errors as process_photo for files that are not JPEG/PNG/HEIC, are
    damaged, or exceed ``max_pixels`` (checked from the header).
    """
    data = bytes(data)
    fmt = detect_format(data)
    if fmt == "jpeg":
        parts = _parse_jpeg(data)
        _check_pixels(parts.width, parts.height, max_pixels)
        facts = _exif_facts(parts.exif)
        _open(parts.stripped, ["JPEG"], max_pixels)  # the header must make sense to a real decoder
        app1 = facts.minimal_exif(keep_orientation=True)
        if not app1:
            return parts.stripped
        segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
        at = 2
        if parts.stripped[2:4] == b"\xff\xe0":  # JFIF first, then Exif (what exiftool and most cameras do)
            at = 4 + struct.unpack(">H", parts.stripped[4:6])[0]
        return parts.stripped[:at] + segment + parts.stripped[at:]
    if fmt == "png":
        png = _parse_png(data)
        _check_pixels(png.width, png.height, max_pixels)
        if png.animated:
            raise ImageRejected(UNSUPPORTED_TYPE, "animated PNG", patient_message=ANIMATED_MESSAGE)
        facts = _exif_facts(png.exif)
        exif = facts.minimal_exif(keep_orientation=True)
        out = [data[:8]]
        wrote_exif = not exif
        for kind, start, end in png.chunks:
            if kind == b"IDAT" and not wrote_exif:
                body = exif[6:]  # PNG eXIf holds the TIFF structure without the "Exif\0\0" prefix
                out.append(struct.pack(">I", len(body)) + b"eXIf" + body + struct.pack(">I", zlib.crc32(b"eXIf" + body) & 0xFFFFFFFF))
                wrote_exif = True
            if kind in _PNG_KEEP:
                out.append(data[start:end])
        return b"".join(out)
    image = _open(data, ["HEIF"], max_pixels)
    _load(image)
    facts = _exif_facts_from_image(image)
    rgb, icc = _to_rgb(image)
    return _encode_jpeg(rgb, ORIGINAL_QUALITY, icc, exif=facts.minimal_exif(keep_orientation=False))


def detect_format(data: bytes) -> str:
    """'jpeg', 'png' or 'heic' from the magic bytes, or raise ImageRejected."""
    head = data[:64]
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    brands = _ftyp_brands(data)
    if brands is not None:
        if brands & _HEIF_BRANDS:
            return "heic"
        if brands & {b"avif", b"avis"}:
            raise ImageRejected(UNSUPPORTED_TYPE, "AVIF")
        if brands & {b"mif1", b"msf1"}:
            return "heic"
        raise ImageRejected(NOT_AN_IMAGE, "ISO media file that is not HEIF (a video?)")
    for name, test in _UNSUPPORTED:
        if test(head):
            raise ImageRejected(UNSUPPORTED_TYPE, name)
    raise ImageRejected(NOT_AN_IMAGE, "unknown signature")


def assess_quality(image: Image.Image, thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> QualityReport:
    """Blur (variance of the Laplacian) and exposure of an image, on greyscale at most 1024 px."""
    grey = image.convert("L")
    grey = _resize(grey, _fit(grey.size, ANALYSIS_SIDE))
    blur = laplacian_variance(grey)
    histogram = grey.histogram()
    total = sum(histogram) or 1
    brightness = sum(level * count for level, count in enumerate(histogram)) / total
    dark = sum(histogram[: thresholds.dark_level + 1]) / total
    bright = sum(histogram[thresholds.bright_level :]) / total
    flags = []
    if blur < thresholds.blur:
        flags.append(QualityFlag(BLURRY, ADVICE[BLURRY]))
    if brightness < thresholds.dark_mean or dark > thresholds.dark_fraction:
        flags.append(QualityFlag(TOO_DARK, ADVICE[TOO_DARK]))
    elif brightness > thresholds.bright_mean or bright > thresholds.bright_fraction:
        flags.append(QualityFlag(TOO_BRIGHT, ADVICE[TOO_BRIGHT]))
    return QualityReport(blur_score=blur, brightness=brightness, flags=tuple(flags))


_LAPLACIAN = (0, 1, 0, 1, -4, 1, 0, 1, 0)


def laplacian_variance(grey: Image.Image) -> float:
    """Variance of the 4-neighbour Laplacian of an "L" image, without numpy.

    Pillow's kernel filter clips to 0..255, so the positive and the negative parts are filtered
    separately (each pixel has at most one non-zero part) and combined from their sums and sums of
    squares. Pillow copies the 1-pixel border unfiltered, so it is cropped away.
    """
    width, height = grey.size
    if width < 3 or height < 3:
        return 0.0
    box = (1, 1, width - 1, height - 1)
    positive = grey.filter(ImageFilter.Kernel((3, 3), _LAPLACIAN, scale=1, offset=0)).crop(box)
    negative = grey.filter(ImageFilter.Kernel((3, 3), [-k for k in _LAPLACIAN], scale=1, offset=0)).crop(box)
    pos, neg = ImageStat.Stat(positive), ImageStat.Stat(negative)
    count = pos.count[0]
    mean = (pos.sum[0] - neg.sum[0]) / count
    return max(0.0, (pos.sum2[0] + neg.sum2[0]) / count - mean * mean)


# --- pipelines ------------------------------------------------------------------------------------


def _process_jpeg(held: list[bytes], max_pixels: int, thresholds: QualityThresholds) -> ProcessedPhoto:
    parts = _parse_jpeg(held.pop())  # the upload's bytes are released once the stripped copy exists
    _check_pixels(parts.width, parts.height, max_pixels)
    facts = _exif_facts(parts.exif)
    image = _open(parts.stripped, ["JPEG"], max_pixels)
    full_size = image.size
    lossless = facts.orientation == 1 and parts.sof in (0xC0, 0xC1, 0xC2) and parts.precision == 8 and image.mode in ("RGB", "L")
    if lossless:
        # Decode straight to the smallest DCT scale that still covers the preview.
        image.draft(image.mode, _fit(full_size, PREVIEW_SIDE))
        _load(image)
        working, icc = _to_rgb(image)
        original, width, height = parts.stripped, full_size[0], full_size[1]
    else:
        # Full size, turned upright and re-encoded. Memory: each intermediate is released as soon
        # as the next exists (a 21 MP photo is 61 MiB of pixels per copy), so at most two copies
        # of the pixels are alive, and only while the one turns into the other.
        _load(image)
        del parts  # the decoder is done with the stripped bytes
        pixels, icc = _to_rgb(image)
        held_pixels = [pixels]
        del image, pixels  # `held_pixels` is the only reference: the source goes while the turned copy is made
        working = _orient_releasing(held_pixels, facts.orientation)
        original = _encode_jpeg(working, ORIGINAL_QUALITY, icc)
        width, height = working.size
    return _finish(working, icc, original, width, height, facts, "jpeg", not lossless, thresholds)


def _process_png(data: bytes, max_pixels: int, thresholds: QualityThresholds) -> ProcessedPhoto:
    png = _parse_png(data)
    _check_pixels(png.width, png.height, max_pixels)
    if png.animated:
        raise ImageRejected(UNSUPPORTED_TYPE, "animated PNG", patient_message=ANIMATED_MESSAGE)
    facts = _exif_facts(png.exif)
    image = _open(data, ["PNG"], max_pixels)
    _load(image)
    pixels, icc = _to_rgb(image)
    held = [pixels]
    del image, pixels
    working = _orient_releasing(held, facts.orientation)
    original = _encode_jpeg(working, ORIGINAL_QUALITY, icc)
    return _finish(working, icc, original, working.width, working.height, facts, "png", True, thresholds)


def _process_heic(data: bytes, max_pixels: int, thresholds: QualityThresholds) -> ProcessedPhoto:
    image = _open(data, ["HEIF"], max_pixels)
    _load(image)
    facts = _exif_facts_from_image(image)  # orientation: already applied by libheif
    working, icc = _to_rgb(image)
    original = _encode_jpeg(working, ORIGINAL_QUALITY, icc)
    return _finish(working, icc, original, working.width, working.height, facts, "heic", True, thresholds)


def _finish(
    working: Image.Image,
    icc: bytes | None,
    original: bytes,
    width: int,
    height: int,
    facts: _ExifFacts,
    source_format: str,
    reencoded: bool,
    thresholds: QualityThresholds,
) -> ProcessedPhoto:
    preview = _resize(working, _fit((width, height), PREVIEW_SIDE))
    thumbnail = _resize(preview, _fit(preview.size, THUMBNAIL_SIDE))
    return ProcessedPhoto(
        original_jpeg=original,
        thumbnail_jpeg=_encode_jpeg(thumbnail, THUMBNAIL_QUALITY, icc),
        preview_jpeg=_encode_jpeg(preview, PREVIEW_QUALITY, icc),
        width=width,
        height=height,
        captured_at=facts.captured_at,
        source_format=source_format,
        quality=assess_quality(preview, thresholds),
        original_reencoded=reencoded,
    )


# --- format detection -----------------------------------------------------------------------------

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}

_UNSUPPORTED: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("GIF", lambda h: h[:6] in (b"GIF87a", b"GIF89a")),
    ("TIFF", lambda h: h[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")),
    ("WebP", lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP"),
    ("BMP", lambda h: h[:2] == b"BM" and len(h) >= 18 and struct.unpack("<I", h[14:18])[0] in (12, 40, 52, 56, 64, 108, 124)),
    ("JPEG 2000", lambda h: h[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or h[:4] == b"\xff\x4f\xff\x51"),
    ("JPEG XL", lambda h: h[:2] == b"\xff\x0a" or h[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n"),
    ("PSD", lambda h: h[:4] == b"8BPS"),
)


def _ftyp_brands(data: bytes) -> set[bytes] | None:
    """Major and compatible brands of an ISO base media file (HEIF, AVIF, MP4), else None."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    size = struct.unpack(">I", data[:4])[0]
    if size < 16 or size > min(len(data), 4096):
        return None
    brands = {data[8:12]}
    brands.update(data[i : i + 4] for i in range(16, size - 3, 4))
    return brands


# --- JPEG structure -------------------------------------------------------------------------------

_ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")  # a marker: 0xFF not followed by a stuffed 0 or RSTn
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_TABLE_MARKERS = frozenset({0xC4, 0xCC, 0xDB, 0xDC, 0xDD, 0xDF})  # DHT, DAC, DQT, DNL, DRI, EXP


@dataclass(frozen=True)
class _JpegParts:
    stripped: bytes
    exif: bytes | None  # first APP1 Exif payload (starts with b"Exif\0\0")
    width: int
    height: int
    sof: int
    precision: int


def _parse_jpeg(data: bytes) -> _JpegParts:
    """Walk the segments of the primary image, keeping only what decoding and colour need."""
    if data[:2] != b"\xff\xd8":
        raise ImageRejected(CORRUPT, "no JPEG start marker")
    out = [b"\xff\xd8"]
    exif: bytes | None = None
    frame: tuple[int, int, int, int] | None = None  # sof, precision, width, height
    scans = 0
    pos, end = 2, len(data)
    while True:
        if pos >= end or data[pos] != 0xFF:
            raise ImageRejected(CORRUPT, "JPEG ends early or has a broken segment")
        while pos < end and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= end:
            raise ImageRejected(CORRUPT, "JPEG ends early")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI: anything after it (MPF images, trailers) is dropped
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue
        if marker in (0x00, 0xD8) or pos + 2 > end:
            raise ImageRejected(CORRUPT, "unexpected JPEG marker")
        length = struct.unpack(">H", data[pos : pos + 2])[0]
        if length < 2 or pos + length > end:
            raise ImageRejected(CORRUPT, "JPEG segment runs past the end of the file")
        payload = data[pos + 2 : pos + length]
        segment = data[pos - 2 : pos + length]  # 0xFF, marker, length, payload
        pos += length
        if marker in _SOF_MARKERS:
            if len(payload) < 6:
                raise ImageRejected(CORRUPT, "short JPEG frame header")
            if frame is None:
                precision, height, width = payload[0], *struct.unpack(">HH", payload[1:5])
                frame = (marker, precision, width, height)
            out.append(segment)
        elif marker in _TABLE_MARKERS:
            out.append(segment)
        elif marker == 0xDA:  # SOS: header, then entropy-coded data up to the next real marker
            if frame is None:
                raise ImageRejected(CORRUPT, "JPEG scan before frame header")
            found = _ENTROPY_END.search(data, pos)
            if found is None:
                raise ImageRejected(CORRUPT, "JPEG ends inside the image data (truncated)")
            out.append(segment)
            out.append(data[pos : found.start()])
            pos = found.start()
            scans += 1
        elif marker == 0xE0:
            if payload[:5] == b"JFIF\x00" and len(payload) >= 14:
                out.append(b"\xff\xe0\x00\x10" + payload[:12] + b"\x00\x00")  # JFIF without its thumbnail
        elif marker == 0xE1:
            if exif is None and payload[:6] == b"Exif\x00\x00":
                exif = payload
        elif marker == 0xE2:
            if payload[:12] == b"ICC_PROFILE\x00":
                out.append(segment)
        elif marker == 0xEE:
            if payload[:5] == b"Adobe":
                out.append(segment)
        # every other APPn (XMP, IPTC, MPF, maker data), COM and unknown markers are dropped
    if frame is None or scans == 0:
        raise ImageRejected(CORRUPT, "JPEG without image data")
    sof, precision, width, height = frame
    if width == 0 or height == 0:
        raise ImageRejected(CORRUPT, "JPEG with zero or deferred (DNL) dimensions")
    out.append(b"\xff\xd9")
    return _JpegParts(b"".join(out), exif, width, height, sof, precision)


# --- PNG structure --------------------------------------------------------------------------------

_PNG_KEEP = frozenset(
    {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCV", b"cLLI", b"bKGD", b"pHYs"}
)


@dataclass(frozen=True)
class _PngParts:
    width: int
    height: int
    animated: bool
    exif: bytes | None
    chunks: list[tuple[bytes, int, int]]  # kind, start, end (end exclusive, CRC included)


def _parse_png(data: bytes) -> _PngParts:
    chunks: list[tuple[bytes, int, int]] = []
    pos, end = 8, len(data)
    exif = None
    while True:
        if pos + 12 > end:
            raise ImageRejected(CORRUPT, "PNG ends early (no IEND)")
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        stop = pos + 12 + length
        if stop > end:
            raise ImageRejected(CORRUPT, "PNG chunk runs past the end of the file")
        crc = struct.unpack(">I", data[stop - 4 : stop])[0]
        if zlib.crc32(data[pos + 4 : stop - 4]) & 0xFFFFFFFF != crc:
            raise ImageRejected(CORRUPT, "PNG chunk checksum mismatch")
        chunks.append((kind, pos, stop))
        if kind == b"eXIf" and exif is None:
            exif = data[pos + 8 : stop - 4]
        pos = stop
        if kind == b"IEND":
            break
    first_kind, first_start, _ = chunks[0]
    if first_kind != b"IHDR" or struct.unpack(">I", data[first_start : first_start + 4])[0] != 13:
        raise ImageRejected(CORRUPT, "PNG without a valid header chunk")
    width, height = struct.unpack(">II", data[first_start + 8 : first_start + 16])
    if width == 0 or height == 0:
        raise ImageRejected(CORRUPT, "PNG with zero dimensions")
    animated = any(kind == b"acTL" for kind, _, _ in chunks)
    return _PngParts(width, height, animated, exif, chunks)


# --- EXIF facts -----------------------------------------------------------------------------------

_EXIF_IFD = 0x8769
_ORIENTATION = 0x0112
_DATE_TIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_OFFSET_RE = re.compile(r"[+-](?:0\d|1[0-4]):[0-5]\d")
_EXIF_ERRORS = (SyntaxError, ValueError, TypeError, KeyError, IndexError, OSError, struct.error, UnicodeDecodeError)


@dataclass(frozen=True)
class _ExifFacts:
    orientation: int = 1
    date_time_original: str | None = None  # validated "YYYY:MM:DD HH:MM:SS"
    offset: str | None = None  # validated "+HH:MM"

    @property
    def captured_at(self) -> str | None:
        if self.date_time_original is None:
            return None
        moment = datetime.strptime(self.date_time_original, "%Y:%m:%d %H:%M:%S")
        return moment.isoformat() + (self.offset or "")

    def minimal_exif(self, *, keep_orientation: bool) -> bytes:
        """An EXIF block (b"Exif\\0\\0" + TIFF) with only orientation and capture time, or b""."""
        exif = Image.Exif()
        if keep_orientation and self.orientation != 1:
            exif[_ORIENTATION] = self.orientation
        if self.date_time_original:
            sub = exif.get_ifd(_EXIF_IFD)
            sub[_DATE_TIME_ORIGINAL] = self.date_time_original
            if self.offset:
                sub[_OFFSET_TIME_ORIGINAL] = self.offset
        if not exif and not self.date_time_original:
            return b""
        return exif.tobytes()


def _exif_facts(payload: bytes | None) -> _ExifFacts:
    if not payload:
        return _ExifFacts()
    exif = Image.Exif()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about corrupt EXIF; we drop it anyway
        try:
            exif.load(payload)
            return _facts_from_exif(exif)
        except _EXIF_ERRORS:
            return _ExifFacts()  # unreadable EXIF is dropped like any other metadata


def _exif_facts_from_image(image: Image.Image) -> _ExifFacts:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _facts_from_exif(image.getexif())
        except _EXIF_ERRORS:
            return _ExifFacts()


def _facts_from_exif(exif: Image.Exif) -> _ExifFacts:
    try:
        orientation = int(exif.get(_ORIENTATION, 1))
    except _EXIF_ERRORS:
        orientation = 1
    if orientation not in range(1, 9):
        orientation = 1
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except _EXIF_ERRORS:
        sub = {}
    taken = _text(sub.get(_DATE_TIME_ORIGINAL))
    offset = _text(sub.get(_OFFSET_TIME_ORIGINAL))
    if taken is not None:
        try:
            datetime.strptime(taken, "%Y:%m:%d %H:%M:%S")
        except ValueError:  # "0000:00:00 00:00:00", blanks, other formats
            taken = None
    if taken is None or offset is None or not _OFFSET_RE.fullmatch(offset):
        offset = None
    return _ExifFacts(orientation, taken, offset)


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ")
    return value or None


# --- Pillow plumbing ------------------------------------------------------------------------------

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, RuntimeError, IndexError, KeyError, TypeError, ZeroDivisionError)

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@cache
def _heif_available() -> bool:
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()  # idempotent; leaves pillow-heif's options as they are
    return True


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageRejected(TOO_MANY_PIXELS, f"{width}x{height} > {max_pixels} pixels")


def _open(data: bytes, formats: list[str], max_pixels: int) -> Image.Image:
    """Image.open restricted to one format (headers only), then the pixel and frame checks."""
    if formats == ["HEIF"] and not _heif_available():
        raise ImageRejected(UNSUPPORTED_TYPE, "HEIF support is not installed")
    with warnings.catch_warnings():
        # Our own cap decides; Pillow's warning for its (larger) default is noise here.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=formats)
        except Image.DecompressionBombError as error:
            raise ImageRejected(TOO_MANY_PIXELS, "over Pillow's decompression bomb limit") from error
        except UnidentifiedImageError as error:
            raise ImageRejected(CORRUPT, f"{formats[0]} header not readable") from error
        except _DECODE_ERRORS as error:
            raise ImageRejected(CORRUPT, f"{formats[0]} header not readable: {type(error).__name__}") from error
    _check_pixels(image.width, image.height, max_pixels)
    if getattr(image, "n_frames", 1) > 1:
        raise ImageRejected(UNSUPPORTED_TYPE, "more than one frame", patient_message=ANIMATED_MESSAGE)
    return image


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except Image.DecompressionBombError as error:
        raise ImageRejected(TOO_MANY_PIXELS, "over Pillow's decompression bomb limit") from error
    except _DECODE_ERRORS as error:
        raise ImageRejected(CORRUPT, f"pixels not decodable: {type(error).__name__}") from error


def _icc_colour_space(icc: bytes) -> bytes:
    return icc[16:20] if len(icc) >= 20 else b""


def _to_rgb(image: Image.Image) -> tuple[Image.Image, bytes | None]:
    """8-bit RGB pixels and the RGB ICC profile to embed with them (None if there is none)."""
    icc = image.info.get("icc_profile") or None
    mode = image.mode
    if mode == "RGB":
        rgb = image
    elif mode == "CMYK":
        rgb = _cmyk_to_rgb(image, icc)
    elif mode in ("RGBA", "RGBa", "LA", "La", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        rgb = Image.new("RGB", image.size, (255, 255, 255))
        rgb.paste(rgba.convert("RGB"), (0, 0), rgba.getchannel("A"))
    elif mode.startswith("I") or mode == "F":
        wide = image.convert("I") if mode.startswith("I;16") else image
        if mode.startswith("I;16") or (mode == "I" and (cast(Any, wide.getextrema())[1] or 0) > 255):
            wide = wide.point(lambda v: v * (1 / 256))
        rgb = wide.convert("L").convert("RGB")
    else:
        rgb = image.convert("RGB")
    if icc is not None and _icc_colour_space(icc) != b"RGB ":
        icc = None
    return rgb, icc


def _cmyk_to_rgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if icc is not None and _icc_colour_space(icc) == b"CMYK":
        from PIL import ImageCms

        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass
    return image.convert("RGB")


def _orient(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE.get(orientation)
    return image.transpose(method) if method is not None else image


_ORIENT_BAND_ROWS = 64


def _orient_releasing(held: list[Image.Image], orientation: int) -> Image.Image:
    """The same pixels as ``_orient(image, orientation)`` for the one image in `held` (taken out of
    it: the caller keeps no other reference), without ever holding two full copies. Pillow keeps
    RGB at 4 bytes a pixel, so a 21 MP photo is 81 MiB a copy. The source is cut into bands of
    rows; each band is turned and kept as packed RGB bytes (3 bytes a pixel); the source is
    released; then the turned image is assembled band by band, each band's bytes dropped once
    pasted. Peak: one copy plus the packed bytes (about 1.75 copies) instead of two copies."""
    image = held.pop()
    method = _TRANSPOSE.get(orientation)
    if method is None or image.mode != "RGB":
        return _orient(image, orientation)
    width, height = image.size
    bands: list[tuple[tuple[int, int], tuple[int, int, int, int], bytes | None]] = []
    for top in range(0, height, _ORIENT_BAND_ROWS):
        bottom = min(height, top + _ORIENT_BAND_ROWS)
        turned = image.crop((0, top, width, bottom)).transpose(method)
        bands.append((turned.size, _turned_box(method, width, height, (0, top, width, bottom)), turned.tobytes()))
        del turned
    size = (height, width) if method in _SWAPS_SIDES else (width, height)
    info = image.info
    del image  # the last reference to the source: its pixels go now
    result = Image.new("RGB", size)
    for index, (band_size, box, packed) in enumerate(bands):
        assert packed is not None
        result.paste(Image.frombytes("RGB", band_size, packed), box)
        bands[index] = (band_size, box, None)
        del packed
    result.info.update(info)
    return result


_SWAPS_SIDES = {Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270, Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE}


def _turned_box(method: Image.Transpose, width: int, height: int, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Where the pixels of `box` in a width x height image land once the image is transposed."""
    x0, y0, x1, y1 = box
    return {
        Image.Transpose.FLIP_LEFT_RIGHT: (width - x1, y0, width - x0, y1),
        Image.Transpose.FLIP_TOP_BOTTOM: (x0, height - y1, x1, height - y0),
        Image.Transpose.ROTATE_180: (width - x1, height - y1, width - x0, height - y0),
        Image.Transpose.ROTATE_90: (y0, width - x1, y1, width - x0),
        Image.Transpose.ROTATE_270: (height - y1, x0, height - y0, x1),
        Image.Transpose.TRANSPOSE: (y0, x0, y1, x1),
        Image.Transpose.TRANSVERSE: (height - y1, width - x1, height - y0, width - x0),
    }[method]


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """Size with the longest side at most ``side``, aspect kept, never upscaled."""
    width, height = size
    longest = max(width, height)
    if longest <= side:
        return width, height
    scale = side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Downscale: a fast box ``reduce`` by the largest whole factor that stays at or above ``size``
    (the same steps JPEG DCT scaling takes), then Lanczos for the remaining factor below 2."""
    if image.size == size:
        return image
    factor = min(image.width // size[0], image.height // size[1])
    if factor >= 2:
        image = image.reduce(factor)
        if image.size == size:
            return image
    return image.resize(size, Image.Resampling.LANCZOS)


def _encode_jpeg(image: Image.Image, quality: int, icc: bytes | None, *, exif: bytes = b"") -> bytes:
    out = io.BytesIO()
    params: dict[str, Any] = {"quality": quality}
    if icc:
        params["icc_profile"] = icc
    if exif:
        params["exif"] = exif
    image.save(out, "JPEG", **params)
    return out.getvalue()
