"""FHIR R4 transaction Bundle for the export, written as a stream (plain dicts and JSON, no FHIR library).

Resources (all fullUrls are urn:uuid, derived from the export id so a rerun gives the same ids):
- Patient: NHS number identifier (https://fhir.nhs.uk/Id/nhs-number) only when it passes Modulus 11;
  otherwise the identifier carries a data-absent-reason extension instead of a value, so a receiver
  sees "NHS number absent" and matches on name and birth date.
- Organization (the clinic, ODS code) and Practitioner (the exporting clinician).
- One Media per photo. R4 codes Media.type from http://terminology.hl7.org/CodeSystem/media-type,
  whose code for a photograph is "image" (STU3 called it "photo"); Media.modality is DICOM XC.
  content.url points at a Binary in the bundle; content.size is the JPEG byte count and content.hash
  the base64 of its SHA-1, as R4 Attachment defines them.
- One Binary per photo (image/jpeg; data = base64 of the stored JPEG bytes).
- DocumentReference (text/plain; charset=utf-8): the clinic's comments and the triage outcome.
- Provenance: the exporting clinician (on behalf of the clinic) and the export time.

Binary data is never held in memory as a whole bundle: each Binary's base64 is streamed from the
photo bytes, one photo at a time.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any

from shared_code.domain.body_sites import SNOMED_CT_SYSTEM
from shared_code.domain.identity import UNVERIFIED, VERIFIED, verification_extension
from shared_code.domain.nhs_number import format_nhs_number
from shared_code.export_package.clinical import clinical_entries, measurement_text
from shared_code.export_package.plan import ExportPlan, PlannedPhoto
from shared_code.export_package.times import fhir_datetime, human_birth_date, human_datetime, parse_instant

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
MEDIA_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/media-type"
DICOM_DCM_SYSTEM = "http://dicom.nema.org/resources/ontology/DCM"
LOINC_SYSTEM = "http://loinc.org"

_BINARY_PLACEHOLDER = "\u0000skinvault-binary-data\u0000"
_CHUNK = 3 * 64 * 1024  # a multiple of 3 so base64 chunks concatenate without padding inside


class PhotoChangedError(RuntimeError):
    """A photo read a second time for the bundle differs from the first read."""


@dataclass(frozen=True)
class PhotoDigest:
    """What the first pass learned about a photo's bytes."""

    size: int
    sha1: bytes
    width: int
    height: int

    @property
    def sha1_base64(self) -> str:
        return base64.b64encode(self.sha1).decode("ascii")


def _ref(url: str, display: str | None = None) -> dict[str, str]:
    reference = {"reference": url}
    if display:
        reference["display"] = display
    return reference


def triage_label(code: str) -> str:
    """ "list-for-excision" -> "List for excision"."""
    return code.replace("_", " ").replace("-", " ").strip().capitalize()


def comments_text(plan: ExportPlan) -> str:
    """The clinic's comments and triage outcome as plain text (the DocumentReference content)."""
    info = plan.info
    lines = [f"SkinVault export {info.export_id}: clinic comments and triage outcome", ""]
    patient = info.patient
    born = human_birth_date(patient.date_of_birth) if patient.date_of_birth else "date of birth not recorded"
    nhs = f"NHS number {format_nhs_number(plan.nhs_number)}" if plan.nhs_number else "NHS number absent"
    lines.append(f"Patient: {patient.display_name}, born {born}, {nhs}")
    clinic = info.clinic
    lines.append(f"Clinic: {clinic.name}" + (f" (ODS {clinic.ods_code})" if clinic.ods_code else ""))
    lines.append(f"Exported by {info.clinician.name} on {human_datetime(plan.created)}")
    lines.append("")
    if info.triage:
        triage = info.triage
        lines.append(
            f"Triage outcome: {triage_label(triage.outcome)} ({triage.outcome}), recorded by {triage.recorded_by} "
            f"on {human_datetime(parse_instant(triage.recorded_at))}"
        )
        if triage.note:
            lines.append(f"Triage note: {triage.note}")
    else:
        lines.append("Triage outcome: not recorded")
    for folder in plan.folders:
        photos = [p for p in plan.photos if p.folder is folder]
        lines.append("")
        site = f" ({folder.body_site.label})" if folder.body_site else ""
        lines.append(f"Folder {folder.ordinal}: {folder.info.name}{site}")
        for comment in folder.comments:
            lines.append(_comment_line(comment))
        for photo in photos:
            lines.append(f"  Photo {photo.index_in_folder}, {_capture_phrase(photo)} ({photo.image_name})")
            if not photo.comments:
                lines.append("    No clinic comments.")
            for comment in photo.comments:
                lines.append("  " + _comment_line(comment))
    return "\n".join(lines) + "\n"


def _capture_phrase(photo: PlannedPhoto) -> str:
    if photo.capture_time_known:
        return f"captured {human_datetime(photo.captured)}"
    return f"capture time unknown, uploaded {human_datetime(photo.uploaded)}"


def _comment_line(comment: Any) -> str:
    return f"  - {human_datetime(parse_instant(comment.created_at))}, {comment.author_name}: {comment.text}"


def _attachment_for_text(text: str, title: str, created: str) -> dict[str, Any]:
    raw = text.encode("utf-8")
    return {
        "contentType": "text/plain; charset=utf-8",
        "language": "en-GB",
        "data": base64.b64encode(raw).decode("ascii"),
        "size": len(raw),
        "hash": base64.b64encode(hashlib.sha1(raw, usedforsecurity=False).digest()).decode("ascii"),
        "title": title,
        "creation": created,
    }


def build_entries(plan: ExportPlan, digests: Mapping[str, PhotoDigest]) -> list[dict[str, Any]]:
    """Bundle entries; each Binary's data is a placeholder that write_bundle streams in."""
    info = plan.info
    urls = {
        "patient": f"urn:uuid:{plan.uuid_for('Patient')}",
        "organization": f"urn:uuid:{plan.uuid_for('Organization')}",
        "practitioner": f"urn:uuid:{plan.uuid_for('Practitioner')}",
        "document": f"urn:uuid:{plan.uuid_for('DocumentReference')}",
        "provenance": f"urn:uuid:{plan.uuid_for('Provenance')}",
    }
    created = fhir_datetime(plan.created)
    entries: list[dict[str, Any]] = []

    patient: dict[str, Any] = {"resourceType": "Patient"}
    patient_request: dict[str, Any] = {"method": "POST", "url": "Patient"}
    if plan.nhs_number:
        status = VERIFIED if info.patient.nhs_number_verified else UNVERIFIED  # UK Core: verified, or present but not traced
        patient["identifier"] = [{"extension": [verification_extension(status)], "system": NHS_NUMBER_SYSTEM, "value": plan.nhs_number}]
        patient_request["ifNoneExist"] = f"identifier={NHS_NUMBER_SYSTEM}|{plan.nhs_number}"
    else:
        # "unknown": none was given; "error": one was given but fails the Modulus 11 check.
        reason = "error" if plan.nhs_number_supplied else "unknown"
        patient["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "_value": {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": reason}]}}]
    patient["name"] = [{"use": "usual", "text": info.patient.display_name}]
    if info.patient.family_name:
        patient["name"][0]["family"] = info.patient.family_name
    if info.patient.given_name:
        patient["name"][0]["given"] = [info.patient.given_name]
    if info.patient.administrative_gender:
        patient["gender"] = info.patient.administrative_gender
    if info.patient.date_of_birth:
        patient["birthDate"] = info.patient.date_of_birth
    entries.append({"fullUrl": urls["patient"], "resource": patient, "request": patient_request})

    organization: dict[str, Any] = {"resourceType": "Organization", "name": info.clinic.name}
    org_request: dict[str, Any] = {"method": "POST", "url": "Organization"}
    if info.clinic.ods_code:
        organization["identifier"] = [{"system": ODS_SYSTEM, "value": info.clinic.ods_code}]
        org_request["ifNoneExist"] = f"identifier={ODS_SYSTEM}|{info.clinic.ods_code}"
    entries.append({"fullUrl": urls["organization"], "resource": organization, "request": org_request})

    practitioner = {"resourceType": "Practitioner", "name": [{"text": info.clinician.name}]}
    entries.append({"fullUrl": urls["practitioner"], "resource": practitioner, "request": {"method": "POST", "url": "Practitioner"}})

    media_urls = []
    binary_urls = []
    for photo in plan.photos:
        digest = digests[photo.info.id]
        media_url = f"urn:uuid:{plan.uuid_for('Media', photo.info.id)}"
        binary_url = f"urn:uuid:{plan.uuid_for('Binary', photo.info.id)}"
        media_urls.append(media_url)
        binary_urls.append(binary_url)
        media: dict[str, Any] = {
            "resourceType": "Media",
            "status": "completed",
            "type": {"coding": [{"system": MEDIA_TYPE_SYSTEM, "code": "image", "display": "Image"}], "text": "Photo"},
            "modality": {"coding": [{"system": DICOM_DCM_SYSTEM, "code": "XC", "display": "External-camera Photography"}]},
            "subject": _ref(urls["patient"]),
            "createdDateTime": fhir_datetime(photo.captured),
            "issued": fhir_datetime(photo.uploaded),
        }
        if photo.folder.info.condition:
            media["reasonCode"] = [{"text": photo.folder.info.condition}]
        site = photo.folder.body_site
        if site:
            media["bodySite"] = {"coding": [{"system": SNOMED_CT_SYSTEM, "code": site.code, "display": site.display}], "text": site.label}
        media["height"] = digest.height
        media["width"] = digest.width
        media["content"] = {
            "contentType": "image/jpeg",
            "url": binary_url,
            "size": digest.size,
            "hash": digest.sha1_base64,
            "title": photo.image_name.removeprefix("images/"),
            "creation": fhir_datetime(photo.captured),
        }
        patient_words = [photo.info.notes] if photo.info.notes else []
        if photo.info.rating is not None:
            patient_words.append(f"Patient's rating: {photo.info.rating} out of 10")
        if photo.info.description:
            patient_words.append(f"Patient's description: {photo.info.description}")
        if photo.info.treatment:
            patient_words.append(f"Treatment at the time: {photo.info.treatment}")
        if not photo.capture_time_known:
            patient_words.append(f"Uploaded {human_datetime(photo.uploaded)}: when the photo was taken is not known")
        notes = [{"authorReference": _ref(urls["patient"]), "text": text} for text in patient_words]
        notes += [
            {"authorString": m.author_name, "time": fhir_datetime(parse_instant(m.created_at)), "text": measurement_text(m)}
            for m in photo.info.measurements
        ]
        if notes:
            media["note"] = notes
        entries.append({"fullUrl": media_url, "resource": media, "request": {"method": "POST", "url": "Media"}})
        binary = {
            "resourceType": "Binary",
            "contentType": "image/jpeg",
            "securityContext": _ref(urls["patient"]),
            "data": _BINARY_PLACEHOLDER,
        }
        entries.append({"fullUrl": binary_url, "resource": binary, "request": {"method": "POST", "url": "Binary"}})

    document: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "status": "current",
        "docStatus": "final",
        "type": {
            "coding": [{"system": LOINC_SYSTEM, "code": "11488-4", "display": "Consult note"}],
            "text": "Dermatology photo review: clinic comments and triage outcome",
        },
        "subject": _ref(urls["patient"]),
        "date": created,
        "author": [_ref(urls["practitioner"], info.clinician.name)],
        "custodian": _ref(urls["organization"], info.clinic.name),
        "description": "Clinic comments and triage outcome for photos the patient shared through SkinVault",
        "content": [{"attachment": _attachment_for_text(comments_text(plan), "clinic-comments.txt", created)}],
    }
    if media_urls:
        document["context"] = {"related": [_ref(url) for url in media_urls]}
    entries.append({"fullUrl": urls["document"], "resource": document, "request": {"method": "POST", "url": "DocumentReference"}})

    clinical = clinical_entries(plan, urls)  # ServiceRequest per folder listed for excision, QuestionnaireResponse per lesion history
    entries.extend(clinical)
    targets = [urls["patient"], *media_urls, *binary_urls, urls["document"], *(e["fullUrl"] for e in clinical)]
    provenance: dict[str, Any] = {
        "resourceType": "Provenance",
        "target": [_ref(url) for url in targets],
        "recorded": created,
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE", "display": "create"}]},
        "agent": [
            {
                "type": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author", "display": "Author"}]
                },
                "who": _ref(urls["practitioner"], info.clinician.name),
                "onBehalfOf": _ref(urls["organization"], info.clinic.name),
            }
        ],
    }
    if "direct-care" in info.share.purposes:
        provenance["reason"] = [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT", "display": "treatment"}]}
        ]
    entries.append({"fullUrl": urls["provenance"], "resource": provenance, "request": {"method": "POST", "url": "Provenance"}})
    return entries


def write_bundle(
    plan: ExportPlan,
    digests: Mapping[str, PhotoDigest],
    open_photo: Callable[[str], bytes],
    stream: IO[bytes],
) -> None:
    """Write the Bundle JSON to a binary stream, reading each photo once more for its Binary."""
    header = {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{plan.uuid_for('Bundle')}"},
        "type": "transaction",
        "timestamp": fhir_datetime(plan.created),
    }
    head = json.dumps(header, ensure_ascii=False)
    stream.write(head[:-1].encode("utf-8") + b', "entry": [\n')
    placeholder = json.dumps(_BINARY_PLACEHOLDER)
    photo_ids = iter(p.info.id for p in plan.photos)
    for index, entry in enumerate(build_entries(plan, digests)):
        if index:
            stream.write(b",\n")
        text = json.dumps(entry, ensure_ascii=False)
        if entry["resource"]["resourceType"] != "Binary":
            stream.write(text.encode("utf-8"))
            continue
        before, after = text.split(placeholder)
        photo_id = next(photo_ids)
        data = open_photo(photo_id)
        digest = digests[photo_id]
        if len(data) != digest.size or hashlib.sha1(data, usedforsecurity=False).digest() != digest.sha1:
            raise PhotoChangedError(f"photo {photo_id} changed while the export was being built")
        stream.write(before.encode("utf-8") + b'"')
        view = memoryview(data)
        for offset in range(0, len(view), _CHUNK):
            stream.write(base64.b64encode(view[offset : offset + _CHUNK]))
        stream.write(b'"' + after.encode("utf-8"))
        del view, data
    stream.write(b"\n]}\n")
