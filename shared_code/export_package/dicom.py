"""DICOM VL Photographic Image objects, one per photo (pydicom; no pixel decoding).

- SOP Class VL Photographic Image Storage 1.2.840.10008.5.1.4.1.1.77.1.4, Modality XC.
- Transfer syntax JPEG Baseline (Process 1) 1.2.840.10008.1.2.4.50: the stored JPEG is encapsulated
  unchanged (one fragment, Basic Offset Table) when it is baseline YCbCr; otherwise jpeg.py re-encodes
  it once as baseline (documented there) and the object says DERIVED.
- One study per export, one series per folder; UIDs are "2.25." UUID-derived UIDs (PS3.5 B.2) of
  name-based UUIDs (uuid5) of export id, folder id and photo id, so a rerun gives identical UIDs.
  (pydicom's generate_uid(prefix=None, entropy_srcs=...) ignores entropy_srcs and returns a random
  UUID, so it cannot be used for this.)
- Patient ID = NHS number with issuer "NHS" (and the NHS number OID 2.16.840.1.113883.2.1.4.1) when
  it passes Modulus 11; otherwise Patient ID is empty and Patient Comments says the NHS number is
  absent, leaving name and birth date to identify the patient.
- Anatomic Region Sequence: the folder's SNOMED CT code (SCT); Image Laterality L/R for left/right sites (absent otherwise).
- All dates and times are UK time, on the UK offset of the photo's capture (Timezone Offset From
  UTC "+0000" or "+0100"). Study Date/Time is the first photo's capture, not the export's time.
- Patient's Name is Family^Given when the profile has them; otherwise the display name, unsplit.
  An NHS number the patient typed in (not from NHS login) is exported, and Patient Comments says
  it is not verified.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence
from pydicom.uid import UID, JPEGBaseline8Bit

from shared_code.export_package.jpeg import DicomJpeg
from shared_code.export_package.plan import ExportPlan, PlannedPhoto
from shared_code.export_package.times import dicom_date, dicom_datetime, dicom_offset, dicom_time, parse_date, uk_clock_at

VL_PHOTOGRAPHIC_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.77.1.4"
NHS_NUMBER_OID = "2.16.840.1.113883.2.1.4.1"
IMPLEMENTATION_VERSION_NAME = "SKINVAULT_1"
_UID_NAMESPACE = uuid.UUID("0b9e5d3c-7a41-5f0e-8d6b-2c4f1a9e7d30")


def uuid_derived_uid(*parts: str) -> str:
    """A deterministic "2.25.<128-bit integer>" UID from a name-based UUID of the parts (at most 44 chars)."""
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, chr(31).join(parts)).int}"


IMPLEMENTATION_CLASS_UID = uuid_derived_uid("skinvault", "dicom-export", "implementation-class")


@dataclass(frozen=True)
class DicomUids:
    study: str
    series: str
    instance: str


def uids_for(plan: ExportPlan, photo: PlannedPhoto) -> DicomUids:
    export_id = plan.info.export_id
    return DicomUids(
        study=uuid_derived_uid("study", export_id),
        series=uuid_derived_uid("series", export_id, photo.folder.info.id),
        instance=uuid_derived_uid("instance", export_id, photo.info.id),
    )


def _person_name(text: str) -> str:
    """The display name as the family-name component: its structure is not known, so it is not split."""
    cleaned = " ".join(text.replace("^", " ").replace("=", " ").replace("\\", " ").split())
    return cleaned[:64]


def _family_given(family: str | None, given: str | None) -> str | None:
    """DICOM PN "Family^Given" (each component at most 64 characters), or None without either name."""
    if not family and not given:
        return None

    def part(text: str | None) -> str:
        return " ".join((text or "").replace("^", " ").replace("=", " ").replace("\\", " ").split())[:64]

    return f"{part(family)}^{part(given)}".rstrip("^")


def _lo(text: str | None, limit: int = 64) -> str:
    return " ".join((text or "").replace("\\", "/").split())[:limit]


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning[:64]
    return item


def build_dicom(plan: ExportPlan, photo: PlannedPhoto, jpeg: DicomJpeg) -> bytes:
    """One Part 10 file (preamble, meta header, dataset) as bytes."""
    uids = uids_for(plan, photo)
    created = plan.created
    patient = plan.info.patient
    zone = uk_clock_at(photo.captured)  # every time in this file on one UK clock
    first = min((p.captured for p in plan.photos), default=photo.captured)  # the study: from the first photo

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(VL_PHOTOGRAPHIC_IMAGE_STORAGE)
    meta.MediaStorageSOPInstanceUID = UID(uids.instance)
    meta.TransferSyntaxUID = JPEGBaseline8Bit
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageType = ["DERIVED" if jpeg.reencoded else "ORIGINAL", "PRIMARY"]
    ds.InstanceCreationDate = dicom_date(created, zone)
    ds.InstanceCreationTime = dicom_time(created, zone)
    ds.SOPClassUID = VL_PHOTOGRAPHIC_IMAGE_STORAGE
    ds.SOPInstanceUID = uids.instance
    ds.StudyDate = dicom_date(first, zone)
    ds.SeriesDate = dicom_date(first, zone)
    ds.ContentDate = dicom_date(photo.captured, zone)
    ds.AcquisitionDateTime = dicom_datetime(photo.captured, zone)
    ds.StudyTime = dicom_time(first, zone)
    ds.SeriesTime = dicom_time(first, zone)
    ds.ContentTime = dicom_time(photo.captured, zone)
    ds.AccessionNumber = ""
    ds.Modality = "XC"
    ds.Manufacturer = ""
    ds.InstitutionName = _lo(plan.info.clinic.name)
    ds.ReferringPhysicianName = ""
    ds.TimezoneOffsetFromUTC = dicom_offset(zone)
    ds.StudyDescription = "SkinVault patient photographs"
    ds.SeriesDescription = _lo(photo.folder.info.name)

    ds.PatientName = _family_given(patient.family_name, patient.given_name) or _person_name(patient.display_name)
    if plan.nhs_number:
        ds.PatientID = plan.nhs_number
        ds.IssuerOfPatientID = "NHS"
        qualifiers = Dataset()
        qualifiers.UniversalEntityID = NHS_NUMBER_OID
        qualifiers.UniversalEntityIDType = "ISO"
        ds.IssuerOfPatientIDQualifiersSequence = Sequence([qualifiers])
        ds.TypeOfPatientID = "TEXT"
        if not patient.nhs_number_verified:
            ds.PatientComments = "NHS number not verified (entered by the patient)."
    else:
        ds.PatientID = ""
        ds.PatientComments = "NHS number absent: identify the patient by name and date of birth."
    ds.PatientBirthDate = parse_date(patient.date_of_birth).strftime("%Y%m%d") if patient.date_of_birth else ""
    ds.PatientSex = {"male": "M", "female": "F", "other": "O"}.get(patient.administrative_gender or "", "")

    if not photo.capture_time_known:  # the times above are the upload's: say so, never "taken"
        ds.ImageComments = f"Uploaded {photo.uploaded.astimezone(zone):%d %b %Y %H:%M} UK time; when it was taken is not known"
    if jpeg.reencoded:
        ds.DerivationDescription = f"Stored JPEG ({jpeg.reason}) re-encoded as baseline JPEG for DICOM"
    ds.StudyInstanceUID = uids.study
    ds.SeriesInstanceUID = uids.series
    ds.StudyID = plan.info.export_id[:16]
    ds.SeriesNumber = photo.folder.ordinal
    ds.InstanceNumber = photo.index_in_folder
    ds.PatientOrientation = ""
    site = photo.folder.body_site
    if site and site.laterality:  # left/right sites; otherwise the side is unknown or the part unpaired
        ds.ImageLaterality = site.laterality
    elif site is None:
        ds.Laterality = ""  # no body site: whether the part is paired is unknown (Type 2C, empty)

    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = jpeg.photometric
    ds.PlanarConfiguration = 0
    ds.Rows = jpeg.rows
    ds.Columns = jpeg.columns
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = f"{(jpeg.rows * jpeg.columns * 3) / max(len(jpeg.data), 1):.2f}"[:16]
    ds.LossyImageCompressionMethod = "ISO_10918_1"

    if site:
        ds.AnatomicRegionSequence = Sequence([_code(site.code, "SCT", site.display)])
    ds.AcquisitionContextSequence = Sequence([])

    ds.PixelData = encapsulate([jpeg.data])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True

    buffer = io.BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    return buffer.getvalue()
