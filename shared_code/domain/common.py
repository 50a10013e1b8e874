"""Small pure helpers shared by the domain and services."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import UTC, date, datetime, tzinfo
from typing import Any, TypeGuard

try:
    from zoneinfo import ZoneInfo

    UK: tzinfo = ZoneInfo("Europe/London")
except Exception:  # noqa: BLE001 - no zone database: UTC is the honest fallback  # pragma: no cover
    UK = UTC

# The one id rule: every id the API mints (`fld-<hex>`, `cln-<hex>`, ...) and every identity `sub`
# we know of (UUIDs, Entra object ids, base64url strings) fits it; `#`, `?`, `\`, `/`, spaces,
# control characters and non-ASCII never do. The HTTP edge applies it to every id it is given.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@|~+=-]{0,127}$"
_ID_RE = re.compile(ID_PATTERN)


def is_valid_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


SHARE_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read out and type


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def stable_id(prefix: str, *parts: str) -> str:
    """Deterministic id for things a retried trigger may create twice."""
    return f"{prefix}-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_instant(value: str) -> datetime:
    """ISO 8601 date-time with a zone (Z or offset); raises ValueError otherwise, including for a
    moment that has no UTC equivalent (0001-01-01T00:00:00+01:00, 9999-12-31T23:59:59-01:00)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a time zone is required")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date-time is out of range") from None


def parse_wall_clock(value: str) -> datetime:
    """ISO 8601 date-time; one without an offset is UK local time (phones record wall-clock time and
    SkinVault serves NHS patients)."""
    if not isinstance(value, str) or not value:
        raise ValueError("an ISO 8601 date-time is required")
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UK)


def parse_date(value: str) -> date:
    return date.fromisoformat(value)


def new_share_code() -> str:
    raw = "".join(secrets.choice(SHARE_CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_share_code(value: str) -> str:
    cleaned = "".join(ch for ch in value.upper() if ch.isalnum())
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == 8 else cleaned


def public_view(doc: dict[str, Any], *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A stored document as the API shows it: no store internals, no partition keys unless asked."""
    hidden = {"_etag", "type", "patientId", "clinicId", "key", *drop}
    return {k: v for k, v in doc.items() if k not in hidden and not k.startswith("_")}


def uk_file_stamp(value: str | None, *, with_time: bool = True) -> str:
    """ "2026-07-01_00-30-00" (or "2026-07-01") in UK time for a stored ISO time, for file names
    people read (a photo taken at 00:30 BST is dated that day, not the UTC day before); "" if unknown."""
    if not value:
        return ""
    try:
        local = parse_wall_clock(value).astimezone(UK)
    except ValueError:
        return ""
    return local.strftime("%Y-%m-%d_%H-%M-%S" if with_time else "%Y-%m-%d")
