"""De-identified research export (issue 17): a ZIP of DICOM, CSV and a FHIR bundle, no direct identifiers.

Layout:
    README.txt                          what was done to the data (de-identification, date shift)
    participants.csv                    one row per participant: pseudonym, status, year of birth, sex
    timepoints.csv                      one row per photo: pseudonym, schedule week, day, body site, DICOM file and UIDs
    fhir/bundle.json                    FHIR R4 collection Bundle: ResearchStudy, Patient + ResearchSubject per
                                        participant (no name, identifier, address or full birth date), Media per photo
    dicom/<participant>/day-<NNNN>-<n>.dcm   DICOM VL Photographic Image, one per photo

DICOM de-identification follows PS3.15 Annex E, Basic Application Level Confidentiality Profile with
the Retain Longitudinal Temporal Information Modified Dates and Clean Descriptors options:
- the object is first built by dicom.py from pseudonymous inputs only (the participant code stands
  in for the name and Patient ID; no birth date; folder names and notes never enter), then
- every UID is replaced (U): each original UID maps to a fresh random "2.25." UID, consistently
  within one export (photos of one folder share a series, photos of one participant share a study),
  and differently in every export, so exports cannot be joined on UIDs;
- identifying attributes are removed (X) or emptied (Z): institution, IDs, accession number, comments;
- dates are shifted per participant so that the enrolment day is 2000-01-01 and times are 12:00:00;
  the real dates never appear (LongitudinalTemporalInformationModified MODIFIED);
- the JPEG bitstream carries no APPn/COM metadata (EXIF capture time, ICC profile are dropped);
- PatientIdentityRemoved YES, DeidentificationMethod and DeidentificationMethodCodeSequence record it.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import pydicom
from pydicom.dataset import Dataset
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence as DicomSequence

from shared_code.domain.body_sites import BODY_SITES, SNOMED_CT_SYSTEM, human_label
from shared_code.export_package.dicom import build_dicom
from shared_code.export_package.jpeg import DicomJpeg, dicom_ready_jpeg, exif_orientation, inspect_jpeg, reencode_baseline
from shared_code.export_package.model import ClinicianInfo, ClinicInfo, ExportRequestInfo, FolderInfo, PatientInfo, PhotoInfo, ShareInfo
from shared_code.export_package.plan import plan_export

SHIFTED_EPOCH = datetime(2000, 1, 1, 12, 0, tzinfo=UTC)  # every participant's day 0
DAYS_EXTENSION = "https://skinvault.nhs.example/fhir/StructureDefinition/days-since-enrolment"
TIMEPOINT_EXTENSION = "https://skinvault.nhs.example/fhir/StructureDefinition/study-timepoint-week"
PARTICIPANT_SYSTEM = "https://skinvault.nhs.example/Id/study-participant"
REC_SYSTEM = "https://skinvault.nhs.example/Id/rec-reference"
IRAS_SYSTEM = "https://www.myresearchproject.org.uk/Id/iras"
DEIDENTIFICATION_METHOD = [
    "DICOM PS3.15 Annex E Basic Application Confidentiality Profile",
    "Retain Longitudinal Temporal Information Modified Dates",
    "Clean Descriptors",
    "Dates shifted: enrolment day = 20000101",
]
DEIDENTIFICATION_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    ("113105", "Clean Descriptors Option"),
)
# Annex E actions for attributes dicom.py may write: X = remove, Z = keep present but empty.
_REMOVE = (
    "InstitutionName",
    "PatientComments",
    "IssuerOfPatientID",
    "IssuerOfPatientIDQualifiersSequence",
    "TypeOfPatientID",
    "OtherPatientIDsSequence",
    "DerivationDescription",
    "InstitutionAddress",
    "StationName",
    "DeviceSerialNumber",
)
_EMPTY = ("AccessionNumber", "ReferringPhysicianName", "StudyID", "PatientBirthDate", "Manufacturer")
_UID_ATTRIBUTES = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
_SEX = {"female": "F", "male": "M", "other": "O"}
_FHIR_GENDER = {"female": "female", "male": "male", "other": "other"}


@dataclass(frozen=True)
class ResearchStudyInfo:
    title: str
    sponsor: str
    rec_reference: str
    iras_id: str | None
    schedule_weeks: tuple[int, ...]


@dataclass(frozen=True)
class ResearchParticipant:
    code: str  # the pseudonym: the only participant identifier in the package
    status: str  # on-study | withdrawn
    year_of_birth: int | None
    sex: str | None  # female | male | other | not-stated | None
    withdrawn_day: int | None = None


@dataclass(frozen=True)
class ResearchPhoto:
    source_id: str  # internal: passed back to open_photo; never written to the package
    series_source_id: str  # internal: the photo's folder (one DICOM series per folder)
    participant_code: str
    day: int  # days since enrolment
    week: int | None  # the schedule week it counts for, if any
    body_site: str | None  # a key of BODY_SITES


@dataclass(frozen=True)
class ResearchPackageStats:
    export_id: str
    participant_count: int
    photo_count: int
    bytes_written: int
    entries: tuple[str, ...] = field(default_factory=tuple)


class UidMap:
    """Original UID -> a fresh random UID, the same one each time within this map (one export)."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    def __call__(self, original: str) -> str:
        if original not in self._map:
            self._map[original] = f"2.25.{uuid.uuid4().int}"
        return self._map[original]

    def originals(self) -> tuple[str, ...]:
        return tuple(self._map)


def strip_jpeg_metadata(data: bytes) -> bytes:
    """The JPEG without APP1..APP15 and COM segments (EXIF capture time, ICC, comments); JFIF APP0 stays.

    Lossless: entropy-coded data is copied unchanged. Call only for upright images (orientation 1).
    """
    out = bytearray(data[:2])
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[pos:]
            return bytes(out)
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos : pos + 2 + length]
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE):
            out += segment
        pos += 2 + length
    raise ValueError("no start of scan in the JPEG")


def research_jpeg(data: bytes) -> DicomJpeg:
    """A baseline JPEG without any metadata, upright, ready for DICOM encapsulation."""
    if exif_orientation(data) != 1:
        baseline = reencode_baseline(data)  # applies the rotation; writes no metadata
        info = inspect_jpeg(baseline)
        return DicomJpeg(baseline, info.height, info.width, "YBR_FULL_422", reencoded=True, reason="EXIF orientation to apply")
    return dicom_ready_jpeg(strip_jpeg_metadata(data))


def _shifted(day: int) -> str:
    return (SHIFTED_EPOCH + timedelta(days=day)).isoformat().replace("+00:00", "Z")


def _code_item(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning[:64]
    return item


def deidentify(ds: Dataset, uids: UidMap, study: ResearchStudyInfo, participant: ResearchParticipant, photo: ResearchPhoto) -> Dataset:
    """Apply the Basic Profile's actions to a dataset built by dicom.py, and record that it was done."""
    for name in _UID_ATTRIBUTES:
        setattr(ds, name, uids(getattr(ds, name)))
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    for name in _REMOVE:
        if name in ds:
            delattr(ds, name)
    for name in _EMPTY:
        setattr(ds, name, "")
    ds.PatientName = participant.code
    ds.PatientID = participant.code
    ds.PatientSex = _SEX.get(participant.sex or "", "")
    ds.StudyDescription = "SkinVault research photographs"
    ds.SeriesDescription = human_label(photo.body_site) if photo.body_site in BODY_SITES else "Study photographs"
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = list(DEIDENTIFICATION_METHOD)
    ds.DeidentificationMethodCodeSequence = DicomSequence([_code_item(code, "DCM", meaning) for code, meaning in DEIDENTIFICATION_CODES])
    ds.LongitudinalTemporalInformationModified = "MODIFIED"
    # Clinical Trial Subject, Study and Series modules: the pseudonym and the timepoint.
    ds.ClinicalTrialSponsorName = study.sponsor[:64]
    ds.ClinicalTrialProtocolID = (study.iras_id or study.rec_reference)[:64]
    ds.ClinicalTrialProtocolName = study.title[:64]
    ds.ClinicalTrialSiteID = ""
    ds.ClinicalTrialSiteName = ""
    ds.ClinicalTrialSubjectID = participant.code
    ds.ClinicalTrialTimePointID = f"week-{photo.week}" if photo.week is not None else f"day-{photo.day}"
    ds.ClinicalTrialTimePointDescription = f"Day {photo.day} after enrolment"
    ds.ClinicalTrialCoordinatingCenterName = ""
    return ds


def build_research_dicom(
    export_id: str, study: ResearchStudyInfo, participant: ResearchParticipant, photo: ResearchPhoto, jpeg: DicomJpeg, uids: UidMap
) -> bytes:
    """dicom.py's VL Photographic Image, built from pseudonymous inputs, then de-identified (Annex E)."""
    info = ExportRequestInfo(
        export_id=f"{export_id}/{participant.code}",  # one DICOM study per participant
        created_at=_shifted(0),
        clinic=ClinicInfo(name=""),
        clinician=ClinicianInfo(name="", sub=""),
        share=ShareInfo(granted_at=_shifted(0), expires_at=None, purposes=("research",), consent_version="", consent_text_hash=""),
        patient=PatientInfo(display_name=participant.code),
    )
    folder = FolderInfo(id=photo.series_source_id, name="", body_site=photo.body_site)
    source = PhotoInfo(id=photo.source_id, folder_id=photo.series_source_id, captured_at=_shifted(photo.day), uploaded_at=_shifted(photo.day))
    plan = plan_export(info, [folder], [source], [])
    ds = pydicom.dcmread(io.BytesIO(build_dicom(plan, plan.photos[0], jpeg)))
    if jpeg.reencoded:
        ds.ImageType = ["DERIVED", "PRIMARY"]
    deidentify(ds, uids, study, participant, photo)
    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()


def _csv(rows: list[list[object]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def _bundle(
    export_id: str,
    created_at: str,
    study: ResearchStudyInfo,
    participants: Sequence[ResearchParticipant],
    media: list[tuple[ResearchPhoto, str, str]],
) -> dict[str, Any]:
    def urn() -> str:
        return f"urn:uuid:{uuid.uuid4()}"

    study_url = urn()
    identifiers = [{"system": REC_SYSTEM, "value": study.rec_reference}]
    if study.iras_id:
        identifiers.append({"system": IRAS_SYSTEM, "value": study.iras_id})
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": study_url,
            "resource": {
                "resourceType": "ResearchStudy",
                "identifier": identifiers,
                "title": study.title,
                "status": "active",
                "sponsor": {"display": study.sponsor},
            },
        }
    ]
    patient_urls: dict[str, str] = {}
    for p in participants:
        patient_urls[p.code] = urn()
        patient: dict[str, Any] = {"resourceType": "Patient", "gender": _FHIR_GENDER.get(p.sex or "", "unknown")}
        if p.year_of_birth:
            patient["birthDate"] = f"{p.year_of_birth:04d}"
        entries.append({"fullUrl": patient_urls[p.code], "resource": patient})
        entries.append(
            {
                "fullUrl": urn(),
                "resource": {
                    "resourceType": "ResearchSubject",
                    "identifier": [{"system": PARTICIPANT_SYSTEM, "value": p.code}],
                    "status": "withdrawn" if p.status == "withdrawn" else "on-study",
                    "study": {"reference": study_url},
                    "individual": {"reference": patient_urls[p.code]},
                },
            }
        )
    for photo, path, sop_uid in media:
        resource: dict[str, Any] = {
            "resourceType": "Media",
            "status": "completed",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/media-type", "code": "image", "display": "Image"}]},
            "modality": {
                "coding": [{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "XC", "display": "External-camera Photography"}]
            },
            "subject": {"reference": patient_urls[photo.participant_code]},
            "identifier": [{"system": "urn:dicom:uid", "value": f"urn:oid:{sop_uid}"}],
            "extension": [{"url": DAYS_EXTENSION, "valueInteger": photo.day}],
            "content": {"contentType": "application/dicom", "url": path},
        }
        if photo.week is not None:
            resource["extension"].append({"url": TIMEPOINT_EXTENSION, "valueInteger": photo.week})
        if photo.body_site in BODY_SITES:
            code, display = BODY_SITES[photo.body_site]
            resource["bodySite"] = {"coding": [{"system": SNOMED_CT_SYSTEM, "code": code, "display": display}]}
        entries.append({"fullUrl": urn(), "resource": resource})
    return {"resourceType": "Bundle", "type": "collection", "timestamp": created_at, "entry": entries}


def _readme(study: ResearchStudyInfo, participants: int, photos: int) -> bytes:
    lines = [
        f"SkinVault research export: {study.title}",
        f"Sponsor: {study.sponsor}. REC reference: {study.rec_reference}." + (f" IRAS ID: {study.iras_id}." if study.iras_id else ""),
        f"Participants: {participants}. Photos: {photos}.",
        "",
        "Participants are known only by their study participant id (SVP-....). No names, NHS numbers, dates of",
        "birth, addresses, email addresses or free-text notes are included. Sex is included where the participant",
        "gave it; year of birth only.",
        "",
        "Dates: days are counted from each participant's enrolment (day 0). In the DICOM objects dates are shifted",
        "so that every participant's enrolment day is 2000-01-01; times are set to 12:00:00.",
        "",
        "DICOM: de-identified following DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile with",
        "the Retain Longitudinal Temporal Information Modified Dates and Clean Descriptors options. All UIDs are",
        "new in every export (consistent within this export). Embedded JPEG metadata has been removed.",
        "",
        "Participants who withdrew before this export are listed as withdrawn without photos.",
        "",
        "The photos themselves are not altered beyond removing embedded metadata: a photo may still show an",
        "identifying feature (a face, a tattoo, jewellery). Handle them as the study protocol and REC approval say.",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def build_research_package(
    export_id: str,
    created_at: str,
    study: ResearchStudyInfo,
    participants: Sequence[ResearchParticipant],
    photos: Sequence[ResearchPhoto],
    open_photo: Callable[[str], bytes],
    out: BinaryIO,
) -> ResearchPackageStats:
    """Write the research ZIP to `out` (seekable or not); open_photo(source_id) gives the stored JPEG."""
    by_code = {p.code: p for p in participants}
    uids = UidMap()
    counters: dict[tuple[str, int], int] = {}
    timepoint_rows: list[list[object]] = [
        [
            "participant_id",
            "timepoint_week",
            "day",
            "body_site_code",
            "body_site",
            "dicom_file",
            "study_instance_uid",
            "series_instance_uid",
            "sop_instance_uid",
        ]
    ]
    media: list[tuple[ResearchPhoto, str, str]] = []
    entries: list[str] = []
    photo_counts: dict[str, int] = {}
    stamp = (2000, 1, 1, 0, 0, 0)

    def entry(name: str) -> zipfile.ZipInfo:
        zinfo = zipfile.ZipInfo(name, date_time=stamp)
        zinfo.compress_type = zipfile.ZIP_DEFLATED
        zinfo.external_attr = 0o644 << 16
        entries.append(name)
        return zinfo

    with zipfile.ZipFile(out, mode="w", allowZip64=True) as archive:
        for photo in sorted(photos, key=lambda p: (p.participant_code, p.day, p.series_source_id, p.source_id)):
            participant = by_code[photo.participant_code]
            counters[(photo.participant_code, photo.day)] = n = counters.get((photo.participant_code, photo.day), 0) + 1
            path = f"dicom/{photo.participant_code}/day-{photo.day:04d}-{n}.dcm"
            data = build_research_dicom(export_id, study, participant, photo, research_jpeg(open_photo(photo.source_id)), uids)
            archive.writestr(entry(path), data)
            ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
            site_code = BODY_SITES[photo.body_site][0] if photo.body_site in BODY_SITES else ""
            site_label = human_label(photo.body_site) if photo.body_site in BODY_SITES else ""
            timepoint_rows.append(
                [photo.participant_code, "" if photo.week is None else photo.week, photo.day, site_code, site_label, path]
                + [ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID]
            )
            media.append((photo, path, str(ds.SOPInstanceUID)))
            photo_counts[photo.participant_code] = photo_counts.get(photo.participant_code, 0) + 1
        participant_rows: list[list[object]] = [["participant_id", "status", "year_of_birth", "sex", "withdrawn_day", "photo_count"]]
        for p in sorted(participants, key=lambda p: p.code):
            participant_rows.append(
                [
                    p.code,
                    p.status,
                    p.year_of_birth or "",
                    p.sex or "",
                    "" if p.withdrawn_day is None else p.withdrawn_day,
                    photo_counts.get(p.code, 0),
                ]
            )
        archive.writestr(entry("participants.csv"), _csv(participant_rows))
        archive.writestr(entry("timepoints.csv"), _csv(timepoint_rows))
        bundle = _bundle(export_id, created_at, study, participants, media)
        archive.writestr(entry("fhir/bundle.json"), json.dumps(bundle, indent=1, ensure_ascii=False).encode("utf-8"))
        archive.writestr(entry("README.txt"), _readme(study, len(participants), len(media)))
    count = out.tell() if out.seekable() else 0
    return ResearchPackageStats(export_id, len(participants), len(media), count, tuple(entries))
