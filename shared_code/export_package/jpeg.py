"""JPEG inspection for the export (pure, in memory).

The export receives the server's stored originals. DICOM JPEG Baseline (Process 1, transfer syntax
1.2.840.10008.1.2.4.50) can carry them byte for byte when they are baseline (SOF0), 8-bit, three
YCbCr components with 4:2:2 or 4:2:0 chroma (DICOM YBR_FULL_422) and carry no rotation still to apply. Anything else (progressive, extended,
lossless, CMYK, greyscale, 4:4:4, Adobe RGB-transform, EXIF orientation other than 1) is re-encoded once as
baseline 4:2:0 YCbCr at quality 95 for the DICOM copy only; images/ and FHIR keep the stored bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


class NotAJpeg(ValueError):
    """The bytes are not a JPEG image the export can use."""


@dataclass(frozen=True)
class JpegInfo:
    sof_marker: int  # 0xC0 baseline, 0xC1 extended, 0xC2 progressive, ...
    precision: int
    height: int
    width: int
    components: tuple[tuple[int, int, int], ...]  # (component id, horizontal, vertical sampling)
    adobe_transform: int | None
    has_exif: bool

    @property
    def is_baseline(self) -> bool:
        return self.sof_marker == 0xC0 and self.precision == 8

    @property
    def chroma_subsampled(self) -> bool:
        return any((h, v) != (1, 1) for _, h, v in self.components)


def inspect_jpeg(data: bytes) -> JpegInfo:
    """Read the frame header (SOF) and the APP markers that matter, without decoding pixels."""
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        raise NotAJpeg("no JPEG start-of-image marker")
    pos = 2
    adobe: int | None = None
    has_exif = False
    end = len(data)
    while pos < end:
        if data[pos] != 0xFF:
            raise NotAJpeg("corrupt JPEG marker stream")
        while pos < end and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= end:
            break
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            break
        if pos + 2 > end:
            break
        length = int.from_bytes(data[pos : pos + 2], "big")
        segment = data[pos + 2 : pos + length]
        if length < 2 or len(segment) != length - 2:
            raise NotAJpeg("truncated JPEG segment")
        if marker == 0xEE and segment.startswith(b"Adobe") and len(segment) >= 12:
            adobe = segment[11]
        elif marker == 0xE1 and segment.startswith(b"Exif\x00\x00"):
            has_exif = True
        elif marker in _SOF_MARKERS:
            if len(segment) < 6:
                raise NotAJpeg("truncated frame header")
            precision = segment[0]
            height = int.from_bytes(segment[1:3], "big")
            width = int.from_bytes(segment[3:5], "big")
            count = segment[5]
            comps = []
            for index in range(count):
                base = 6 + 3 * index
                if base + 2 >= len(segment):
                    raise NotAJpeg("truncated frame header")
                sampling = segment[base + 1]
                comps.append((segment[base], sampling >> 4, sampling & 0x0F))
            if height == 0 or width == 0:
                raise NotAJpeg("JPEG without dimensions in its frame header")
            return JpegInfo(marker, precision, height, width, tuple(comps), adobe, has_exif)
        pos += length
    raise NotAJpeg("no JPEG frame header")


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation (1 = upright) of a JPEG; 1 when absent or unreadable."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            value = image.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


@dataclass(frozen=True)
class DicomJpeg:
    """The JPEG bitstream the DICOM object encapsulates, and what describes it."""

    data: bytes
    rows: int
    columns: int
    photometric: str
    reencoded: bool
    reason: str | None = None


def dicom_ready_jpeg(data: bytes, info: JpegInfo | None = None) -> DicomJpeg:
    """The stored JPEG itself when JPEG Baseline can carry it unchanged, else a baseline re-encoding."""
    info = info or inspect_jpeg(data)
    reason = _why_not_passthrough(data, info)
    if reason is None:
        return DicomJpeg(data, info.height, info.width, "YBR_FULL_422", reencoded=False)
    baseline = reencode_baseline(data)
    new = inspect_jpeg(baseline)
    return DicomJpeg(baseline, new.height, new.width, "YBR_FULL_422", reencoded=True, reason=reason)


def _why_not_passthrough(data: bytes, info: JpegInfo) -> str | None:
    if info.sof_marker != 0xC0:
        return "progressive" if info.sof_marker in (0xC2, 0xC6, 0xCA, 0xCE) else "not baseline"
    if info.precision != 8:
        return "not 8-bit"
    if len(info.components) != 3:
        return "not three-component YCbCr"
    if info.adobe_transform == 0:
        return "RGB (Adobe transform 0), not YCbCr"
    luma, *chroma = info.components
    if any((h, v) != (1, 1) for _, h, v in chroma) or (luma[1], luma[2]) not in ((2, 1), (2, 2)):
        # VL Photographic Image allows YBR_FULL_422 for JPEG Baseline, which needs subsampled chroma
        # (4:2:2 or 4:2:0); a 4:4:4 JPEG would need YBR_FULL, which that IOD does not allow.
        return "chroma not subsampled 4:2:2 or 4:2:0"
    if info.has_exif and exif_orientation(data) != 1:
        return "EXIF orientation to apply"
    return None


def reencode_baseline(data: bytes, quality: int = 95) -> bytes:
    """Decode (applying EXIF orientation) and write a baseline, 4:2:0, YCbCr JPEG without metadata."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        rgb = upright.convert("RGB")
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=quality, subsampling=2, progressive=False, optimize=False)
    return out.getvalue()


def thumbnail_jpeg(data: bytes, max_side: int = 480, quality: int = 80) -> tuple[bytes, int, int]:
    """A small upright JPEG for the printable summary, decoded at reduced DCT scale to stay cheap."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (max_side, max_side))
        upright = ImageOps.exif_transpose(image)
        rgb = upright.convert("RGB")
    rgb.thumbnail((max_side, max_side))
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=quality)
    return out.getvalue(), rgb.width, rgb.height
