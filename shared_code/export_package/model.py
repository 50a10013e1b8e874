"""Plain input and output values of the EPR export package builder (no I/O).

Times are ISO 8601 strings as stored (see times.py for how offset-less values are read).
Nothing here is ever logged: these values carry patient data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class ClinicInfo:
    name: str
    ods_code: str | None = None


@dataclass(frozen=True)
class ClinicianInfo:
    name: str
    sub: str


@dataclass(frozen=True)
class ShareInfo:
    granted_at: str
    expires_at: str | None
    purposes: tuple[str, ...]
    consent_version: str
    consent_text_hash: str


@dataclass(frozen=True)
class PatientInfo:
    display_name: str
    date_of_birth: str | None = None  # ISO date
    nhs_number: str | None = None  # exported only when it passes the Modulus 11 check
    nhs_number_verified: bool = False  # True when it came from NHS login's verified claim
    given_name: str | None = None
    family_name: str | None = None
    administrative_gender: str | None = None  # male, female, other, unknown (FHIR); optional


@dataclass(frozen=True)
class TriageInfo:
    outcome: str  # outcome code, e.g. "list-for-excision"
    note: str | None
    recorded_by: str
    recorded_at: str


@dataclass(frozen=True)
class ExportRequestInfo:
    export_id: str
    created_at: str
    clinic: ClinicInfo
    clinician: ClinicianInfo
    share: ShareInfo
    patient: PatientInfo
    triage: TriageInfo | None = None


@dataclass(frozen=True)
class ExcisionInfo:
    """A folder listed for excision (the folder's current triage decision)."""

    procedure: str  # a key of shared_code.domain.triage.PROCEDURES
    priority: str  # FHIR request-priority: routine, urgent, asap
    recorded_by: str
    recorded_at: str
    entry_id: str


@dataclass(frozen=True)
class LesionHistoryInfo:
    answers: tuple[tuple[str, str], ...]  # (linkId, answer code), see shared_code.domain.lesion_history
    answered_at: str


@dataclass(frozen=True)
class FolderInfo:
    id: str
    name: str
    body_site: str | None = None  # a key of shared_code.domain.body_sites.BODY_SITES
    condition: str | None = None
    treatment: str | None = None
    excision: ExcisionInfo | None = None
    lesion_history: LesionHistoryInfo | None = None


@dataclass(frozen=True)
class MeasurementInfo:
    """A clinician's measurement on the photo, calibrated on a ruler in it."""

    length_mm: float
    calibration_mm: float
    author_name: str
    created_at: str
    label: str | None = None


@dataclass(frozen=True)
class PhotoInfo:
    id: str
    folder_id: str
    captured_at: str | None  # None when the phone recorded no capture time: uploaded_at stands in
    uploaded_at: str
    notes: str | None = None
    width: int | None = None
    height: int | None = None
    size_bytes: int | None = None
    rating: int | None = None  # the patient's own 0-10 rating of how it looks or feels
    description: str | None = None  # the patient's description of the photo
    treatment: str | None = None  # the treatment the patient was using then
    measurements: tuple[MeasurementInfo, ...] = ()


@dataclass(frozen=True)
class CommentInfo:
    target_type: Literal["image", "folder"]
    target_id: str
    author_name: str
    text: str
    created_at: str


@dataclass(frozen=True)
class PackageStats:
    """What was written (ids and counts only: safe to log)."""

    export_id: str
    photo_count: int
    folder_count: int
    bytes_written: int
    entries: tuple[str, ...]
    nhs_number_included: bool
    reencoded_photo_ids: tuple[str, ...] = field(default_factory=tuple)
