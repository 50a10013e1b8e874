"""What happens to a photo on the device before it is encrypted: metadata stripped, GPS gone.

One implementation serves the server and the client: this module calls
``shared_code.domain.imaging.prepare_for_upload`` (pure: Pillow and pillow-heif only, no Azure
SDK), which keeps only EXIF orientation and capture time and drops GPS, camera details, XMP, IPTC,
comments and embedded thumbnails. HEIC photos come back as JPEG. A file that is not a JPEG, PNG or
HEIC photo, or is damaged, is refused here with the same plain-English message the server would
give, so nothing unreadable (and so unstrippable) ever leaves the device.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

_REPO_ROOT = Path(__file__).resolve().parents[2]

JPEG = "image/jpeg"
PNG = "image/png"
HEIC = "image/heic"
HEIF = "image/heif"

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})


class PhotoRefused(Exception):
    """The file cannot be sent. ``reason`` is plain English for the person holding the phone."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _imaging() -> ModuleType:
    try:
        return importlib.import_module("shared_code.domain.imaging")
    except ModuleNotFoundError:
        # Run from a checkout (python -m skinvault_client with only client/ on the path).
        if (_REPO_ROOT / "shared_code" / "domain" / "imaging.py").is_file() and str(_REPO_ROOT) not in sys.path:
            sys.path.append(str(_REPO_ROOT))
            return importlib.import_module("shared_code.domain.imaging")
        raise


def content_type_of(data: bytes) -> str | None:
    """The photo's media type from its magic bytes (JPEG, PNG, HEIC/HEIF), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if len(data) >= 16 and data[4:8] == b"ftyp":
        size = int.from_bytes(data[:4], "big")
        if 16 <= size <= min(len(data), 4096):
            brands = {data[8:12], *(data[i : i + 4] for i in range(16, size - 3, 4))}
            if brands & _HEIC_BRANDS:
                return HEIC
            if data[8:12] in _HEIF_BRANDS:
                return HEIF
    return None


def prepare_photo(data: bytes) -> tuple[bytes, str]:
    """The bytes to encrypt and send, and their media type. Raises PhotoRefused."""
    imaging = _imaging()
    try:
        prepared = imaging.prepare_for_upload(data)
    except imaging.ImageRejected as exc:
        raise PhotoRefused(exc.reason_code, exc.patient_message) from None
    content_type = content_type_of(prepared)
    if content_type is None:  # prepare_for_upload only returns JPEG or PNG; refuse rather than guess
        raise PhotoRefused("not-an-image", imaging.PATIENT_MESSAGES["not-an-image"])
    return prepared, content_type
