"""Rules of the patient's photo library: folders, upload requests, image annotations. Pure."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from shared_code.domain.body_sites import BODY_SITES
from shared_code.domain.common import parse_instant
from shared_code.domain.errors import BadRequest, PayloadTooLarge, RuleViolation, UnsupportedMediaType

ACCEPTED_CONTENT_TYPES = ("image/jpeg", "image/png", "image/heic", "image/heif")

_TEXT = {"type": ["string", "null"]}
FOLDER_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "bodySite": {"type": ["string", "null"], "maxLength": 64},
    "condition": {**_TEXT, "maxLength": 200},
    "treatment": {**_TEXT, "maxLength": 500},
    "notes": {**_TEXT, "maxLength": 2000},
    "startDate": {**_TEXT, "maxLength": 10},
    "archived": {"type": "boolean"},
}
FOLDER_CREATE_SCHEMA = {"type": "object", "additionalProperties": False, "required": ["name"], "properties": FOLDER_FIELDS}
FOLDER_PATCH_SCHEMA = {"type": "object", "additionalProperties": False, "properties": FOLDER_FIELDS}

UPLOAD_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["contentType", "sizeBytes"],
    "properties": {
        "contentType": {"type": "string", "maxLength": 100},
        "sizeBytes": {"type": "integer", "minimum": 1},
        "capturedAt": {**_TEXT, "maxLength": 40},
        "notes": {**_TEXT, "maxLength": 2000},
    },
}

IMAGE_PATCH_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "capturedAt": {"type": "string", "maxLength": 40},
        "notes": {**_TEXT, "maxLength": 2000},
        "treatment": {**_TEXT, "maxLength": 500},
        "rating": {"type": ["integer", "null"], "minimum": 0, "maximum": 10},
        "description": {**_TEXT, "maxLength": 500},
    },
}

IMAGE_SIZES = ("thumbnail", "preview", "original")
_SKEW = timedelta(minutes=5)


def clean_folder_fields(body: dict[str, Any], today: date) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, str):
            value = value.strip()
        if key == "name" and not value:
            raise RuleViolation("A folder needs a name.")
        if key == "bodySite" and value is not None and value not in BODY_SITES:
            raise RuleViolation("bodySite must be one of the listed body sites (GET /api/body-sites).")
        if key == "startDate" and value:
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                raise RuleViolation("startDate must be a date like 2026-05-01.") from None
            if parsed > today:
                raise RuleViolation("startDate cannot be in the future.")
            if parsed.year < 1900:
                raise RuleViolation("startDate is too far in the past.")
            value = parsed.isoformat()
        out[key] = value if value != "" else None
    if "name" in out and out["name"] is None:
        raise RuleViolation("A folder needs a name.")
    return out


def check_upload_request(content_type: str, size_bytes: int, max_bytes: int) -> str:
    ct = content_type.split(";")[0].strip().lower()
    if ct not in ACCEPTED_CONTENT_TYPES:
        raise UnsupportedMediaType("Photos must be JPEG, PNG or HEIC/HEIF.")
    if size_bytes > max_bytes:
        raise PayloadTooLarge(f"Photos can be up to {max_bytes // (1024 * 1024)} MB.")
    return ct


def check_captured_at(value: str, now: datetime) -> str:
    try:
        moment = parse_instant(value)
    except ValueError:
        raise RuleViolation("capturedAt must be a date and time with a time zone, like 2026-05-01T09:30:00Z.") from None
    if moment > now.replace(microsecond=0) + _SKEW:
        raise RuleViolation("capturedAt cannot be in the future.")
    if moment.year < 1990:
        raise RuleViolation("capturedAt is too far in the past.")
    return moment.isoformat().replace("+00:00", "Z")


def size_param(value: str | None) -> str:
    size = value or "preview"
    if size not in IMAGE_SIZES:
        raise BadRequest("size must be thumbnail, preview or original.")
    return size
