"""Date and time rendering for the export formats (pure).

Inputs are ISO 8601 strings. A time without an offset is taken as UK local time (Europe/London):
phones record capture time as local wall-clock time and SkinVault serves NHS patients. Where the
time-zone database is missing, UTC is used instead.

- FHIR dateTime/instant: ISO 8601 with the offset kept ("2024-05-01T14:32:05+01:00").
- DICOM DA/TM/DT: UK time. Each file states its offset (Timezone Offset From UTC, "+0000" in
  winter, "+0100" in summer), fixed at the UK offset of that photo's capture, and every time in the
  file is on that one clock.
- People (PDF, file names, text): UK local time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

# the package's callers read times through this module; the rules themselves live in the domain
from shared_code.domain.common import UK, parse_date  # noqa: F401 - re-exported
from shared_code.domain.common import parse_wall_clock as parse_instant  # noqa: F401 - re-exported

__all__ = [
    "UK",
    "dicom_date",
    "dicom_datetime",
    "dicom_time",
    "fhir_datetime",
    "file_stamp",
    "human_birth_date",
    "human_date",
    "human_datetime",
    "parse_date",
    "parse_instant",
    "uk_local",
]


def fhir_datetime(moment: datetime) -> str:
    """FHIR dateTime/instant: seconds precision (milliseconds when present), offset always given."""
    timespec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=timespec)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def uk_clock_at(moment: datetime) -> timezone:
    """The fixed-offset zone UK time had at that moment (GMT or BST)."""
    return timezone(moment.astimezone(UK).utcoffset() or timedelta(0))


def dicom_offset(zone: tzinfo) -> str:
    """ "+0000" / "+0100": DICOM Timezone Offset From UTC."""
    offset = datetime(2000, 1, 1, tzinfo=zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def dicom_date(moment: datetime, zone: tzinfo = UTC) -> str:
    return moment.astimezone(zone).strftime("%Y%m%d")


def dicom_time(moment: datetime, zone: tzinfo = UTC) -> str:
    return moment.astimezone(zone).strftime("%H%M%S")


def dicom_datetime(moment: datetime, zone: tzinfo = UTC) -> str:
    return moment.astimezone(zone).strftime("%Y%m%d%H%M%S") + dicom_offset(zone)


def uk_local(moment: datetime) -> datetime:
    return moment.astimezone(UK)


def human_date(moment: datetime) -> str:
    """ "1 May 2024" in UK local time."""
    local = uk_local(moment)
    return f"{local.day} {local:%B %Y}"


def human_datetime(moment: datetime) -> str:
    """ "1 May 2024, 14:32" in UK local time."""
    local = uk_local(moment)
    return f"{human_date(local)}, {local:%H:%M}"


def human_birth_date(value: str) -> str:
    parsed = parse_date(value)
    return f"{parsed.day} {parsed:%B %Y}"


def file_stamp(moment: datetime) -> str:
    """ "2024-05-01_14-32-05" in UK local time, for file names."""
    return uk_local(moment).strftime("%Y-%m-%d_%H-%M-%S")
