"""EPR export: a clinician asks, a queue-triggered job builds the package, the clinician downloads it.

The package (FHIR R4 bundle, DICOM, JPEGs, printable summary) is built photo by photo into a
temporary file, stored encrypted (client-side encryption v2) in the exports container, and expires
after EXPORT_TTL_HOURS: after that `content` answers 410 and the blob is deleted. Only members of
the sharing clinic, only while the share is active and includes direct-care, only photos in scope.
An export follows the share (export_scope.py): once a photo in it is deleted or no longer shared,
it is withdrawn (blob deleted) and status and content answer 410.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, BinaryIO

from shared_code import export_package as pkg
from shared_code.auth.principal import CLINICIAN, Principal
from shared_code.domain.common import is_valid_id, iso, new_id, parse_instant
from shared_code.domain.errors import Gone, NotFoundError, RuleViolation
from shared_code.domain.sharing import covers_folder
from shared_code.ports import CLINICS, EXPORT_JOBS_QUEUE, EXPORTS, IMAGES, PATIENTS, EncryptionRejected, NotFound
from shared_code.services import access, audit, cases, clinical_export, clinics, concurrency, measurements, paging, pending_work, profile
from shared_code.services.export_scope import LIVE_STATES, WITHDRAWN, WITHDRAWN_REASON, export_blob_name, photos_in_scope, withdraw
from shared_code.services.library import image_blob_name
from shared_code.services.plaintext import read_all

log = logging.getLogger("skinvault.exports")

EXPORT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["caseId"],
    "properties": {
        "caseId": {"type": "string", "minLength": 1, "maxLength": 100},
        "imageIds": {"type": "array", "items": {"type": "string", "maxLength": 100}, "minItems": 1, "maxItems": 1000, "uniqueItems": True},
    },
}
CHUNK = 4 * 1024 * 1024
EXPORT_STUCK_AFTER = timedelta(minutes=30)  # 100 photos of 5 MB build in about a minute
SPOOL = 16 * 1024 * 1024


__all__ = ["build", "export_blob_name", "export_content", "export_status", "request_export"]


def _direct_care_share(services: Any, user: Principal, patient_id: str, clinic_id: str) -> dict:
    if clinic_id not in user.clinic_ids:
        raise NotFoundError()
    share = access.active_share(services.store, patient_id, (clinic_id,), services.clock.now())
    if share is None or "direct-care" not in share.get("purposes", []):
        raise NotFoundError()
    return share


def request_export(services: Any, user: Principal, body: dict) -> dict:
    if user.kind != CLINICIAN:
        raise NotFoundError()
    store, now = services.store, services.clock.now()
    case = cases.find_case(store, user.clinic_ids, body["caseId"])
    patient_id, clinic_id = case["patientId"], case["clinicId"]
    share = _direct_care_share(services, user, patient_id, clinic_id)
    in_scope = {i["id"] for f in access.folders_in_scope(store, patient_id, share) for i in access.ready_images(store, patient_id, f["id"])}
    wanted = body.get("imageIds") or sorted(in_scope)
    if any(image_id not in in_scope for image_id in wanted):
        raise NotFoundError()
    if not wanted:
        raise RuleViolation("There are no ready photos in this case to export.")
    export_id = new_id("exp")
    doc = {
        "id": export_id,
        "patientId": patient_id,
        "type": "export",
        "clinicId": clinic_id,
        "caseId": case["id"],
        "requestedBy": user.sub,
        "imageIds": wanted,
        "status": "queued",
        "reason": None,
        "createdAt": iso(now),
        "readyAt": None,
        "expiresAt": None,
        "sizeBytes": None,
    }
    access.register_owner(store, "exp", export_id, patient_id)
    # Due when any export has long finished: the reconciliation timer ends one still queued/running.
    pending_work.record(store, pending_work.EXPORT, patient_id, export_id, now + EXPORT_STUCK_AFTER)
    store.create(PATIENTS, doc)
    audit.by_clinician(store, now, patient_id, user.sub, "export-requested", clinic_id, ("export", export_id))
    services.queue.send(EXPORT_JOBS_QUEUE, {"exportId": export_id, "patientId": patient_id})
    return {"exportId": export_id, "status": "queued"}


def _export_for(services: Any, user: Principal, export_id: str) -> dict:
    """The export, while the clinician's clinic may still see it; 410 once it was withdrawn."""
    if user.kind != CLINICIAN:
        raise NotFoundError()
    owner = access.owner_of(services.store, "exp", export_id)
    try:
        doc = services.store.read(PATIENTS, owner["patientId"], export_id)
    except NotFound:
        raise NotFoundError() from None
    share = _direct_care_share(services, user, doc["patientId"], doc["clinicId"])
    if doc["status"] == WITHDRAWN or (doc["status"] in LIVE_STATES and not photos_in_scope(services, doc, share)):
        withdraw(services, doc)  # (again: the package goes even if an earlier delete failed)
        raise Gone(WITHDRAWN_REASON)
    return doc


def _state(doc: dict, now: Any) -> str:
    if doc["status"] == "ready" and doc.get("expiresAt") and parse_instant(doc["expiresAt"]) <= now:
        return "expired"
    return doc["status"]


def export_status(services: Any, user: Principal, export_id: str) -> dict:
    doc = _export_for(services, user, export_id)
    return {
        "exportId": doc["id"],
        "caseId": doc["caseId"],
        "status": _state(doc, services.clock.now()),
        "reason": doc.get("reason"),
        "photoCount": len(doc["imageIds"]),
        "createdAt": doc["createdAt"],
        "readyAt": doc.get("readyAt"),
        "expiresAt": doc.get("expiresAt"),
        "sizeBytes": doc.get("sizeBytes"),
    }


def export_content(services: Any, user: Principal, export_id: str) -> bytes:
    doc = _export_for(services, user, export_id)
    now = services.clock.now()
    state = _state(doc, now)
    if state == "expired":
        services.blobs.delete(EXPORTS, export_blob_name(doc["patientId"], export_id))
        raise Gone("This export has expired and was deleted. Start a new export.")
    if state != "ready":
        raise RuleViolation("This export is not ready yet." if state in ("queued", "running") else "This export failed. Start a new one.")
    audit.by_clinician(services.store, now, doc["patientId"], user.sub, "export-downloaded", doc["clinicId"], ("export", export_id))
    return read_all(services.blobs.read_decrypted(EXPORTS, export_blob_name(doc["patientId"], export_id)))


# ----------------------------------------------------------------------------- the job
def _set(services: Any, doc: dict, **changes: Any) -> dict:
    """Change the export's document, unless it was withdrawn meanwhile (that is final)."""

    def change(d: dict) -> bool | None:
        if d.get("status") == WITHDRAWN:
            return False
        d.update(changes)
        return None

    return concurrency.modify(services.store, PATIENTS, doc, change) or doc


def _read_file(f: BinaryIO) -> Iterator[bytes]:
    f.seek(0)
    while chunk := f.read(CHUNK):
        yield chunk


def build(services: Any, message: dict) -> str:
    """Queue-triggered: build, encrypt and store one export. Idempotent; raises to retry on outages."""
    store, now = services.store, services.clock.now()
    patient_id, export_id = message.get("patientId"), message.get("exportId")
    if not is_valid_id(patient_id) or not is_valid_id(export_id):  # checked against the store below; junk never reaches it
        log.warning("export job dropped reason=malformed-ids")
        return "gone"
    try:
        doc = store.read(PATIENTS, patient_id, export_id)
    except NotFound:
        return "gone"  # the patient erased their account meanwhile
    if doc.get("type") != "export":
        log.warning("export job dropped reason=not-an-export export_id=%s", export_id)
        return "gone"
    if doc["status"] in ("ready", "failed", WITHDRAWN):
        return doc["status"]
    doc = _set(services, doc, status="running")
    if doc["status"] == WITHDRAWN:
        return WITHDRAWN
    share = access.active_share(store, patient_id, (doc["clinicId"],), now)
    if share is None or "direct-care" not in share.get("purposes", []):
        _set(services, doc, status="failed", reason="The patient is no longer sharing these photos with the clinic.")
        return "failed"
    try:
        info, folders, photos, comments = _inputs(services, doc, share)
    except LookupError:
        _set(services, doc, status="failed", reason="Some photos are no longer available (the patient deleted or stopped sharing them).")
        return "failed"

    def open_photo(image_id: str) -> bytes:
        return read_all(services.blobs.read_decrypted(IMAGES, image_blob_name(patient_id, image_id, "original")))

    try:
        with tempfile.TemporaryFile() as spool:
            stats = pkg.build_export_package(info, folders, photos, comments, open_photo, spool)
            stored = services.blobs.put_encrypted(EXPORTS, export_blob_name(patient_id, export_id), _read_file(spool))
    except (EncryptionRejected, pkg.ExportInputError, pkg.PhotoChangedError) as exc:
        log.warning("export failed export_id=%s reason=%s", export_id, type(exc).__name__)
        _set(services, doc, status="failed", reason="A photo could not be read for the export. Try again, or contact support.")
        return "failed"
    ttl = timedelta(hours=services.settings.export_ttl_hours)
    done = services.clock.now()
    doc = _set(services, doc, status="ready", readyAt=iso(done), expiresAt=iso(done + ttl), sizeBytes=stats.bytes_written, storedBytes=stored.size)
    if doc["status"] == WITHDRAWN:  # the patient stopped sharing a photo in it while it was built
        withdraw(services, doc)
        return WITHDRAWN
    log.info("export ready export_id=%s photos=%d bytes=%d", export_id, stats.photo_count, stats.bytes_written)
    return "ready"


def _inputs(services: Any, doc: dict, share: dict) -> tuple[Any, list, list, list]:
    store, patient_id = services.store, doc["patientId"]
    clinic = clinics.get_clinic(store, doc["clinicId"])
    prof = profile.read_profile(store, patient_id) or {}
    case = store.read(CLINICS, doc["clinicId"], doc["caseId"])
    images = []
    for image_id in doc["imageIds"]:
        try:
            image = store.read(PATIENTS, patient_id, image_id)
        except NotFound:
            raise LookupError(image_id) from None
        if image.get("status") != "ready" or not covers_folder(share, image["folderId"]):
            raise LookupError(image_id)
        images.append(image)
    folder_ids = sorted({i["folderId"] for i in images})
    folders = [store.read(PATIENTS, patient_id, fid) for fid in folder_ids]
    comments = [
        c
        for c in paging.fetch_all(store, PATIENTS, patient_id, where={"type": "comment", "clinicId": doc["clinicId"]}, order_by="createdAt")
        if c["targetId"] in set(doc["imageIds"]) | set(folder_ids) and not c.get("withdrawnAt")  # posted in error: not for the record
    ]
    triage = case.get("triage")
    info = pkg.ExportRequestInfo(
        export_id=doc["id"],
        created_at=doc["createdAt"],
        clinic=pkg.ClinicInfo(name=clinic["name"], ods_code=clinic.get("odsCode")),
        clinician=pkg.ClinicianInfo(name=clinics.member_name(store, doc["clinicId"], doc["requestedBy"]), sub=doc["requestedBy"]),
        share=pkg.ShareInfo(
            granted_at=share["grantedAt"],
            expires_at=share.get("expiresAt"),
            purposes=tuple(share.get("purposes", [])),
            consent_version=share["consent"]["textVersion"],
            consent_text_hash=share["consent"]["textHash"],
        ),
        patient=pkg.PatientInfo(
            display_name=prof.get("displayName") or "",
            date_of_birth=prof.get("dateOfBirth"),
            nhs_number=prof.get("nhsNumber"),
            nhs_number_verified=bool(prof.get("nhsNumberVerified")),
            given_name=prof.get("givenName"),
            family_name=prof.get("familyName"),
            administrative_gender=prof.get("administrativeGender"),
        ),
        triage=pkg.TriageInfo(outcome=triage["outcome"], note=triage.get("note"), recorded_by=triage["recordedBy"], recorded_at=triage["recordedAt"])
        if triage
        else None,
    )
    folder_infos = [
        pkg.FolderInfo(
            id=f["id"],
            name=f["name"],
            body_site=f.get("bodySite"),
            condition=f.get("condition"),
            treatment=f.get("treatment"),
            excision=clinical_export.excision_info(case, f["id"]),
            lesion_history=clinical_export.lesion_history_info(f),
        )
        for f in folders
    ]
    measured: dict[str, list] = {}
    for m in measurements.of_images(services, case, doc["imageIds"]):
        measured.setdefault(m.image_id, []).append(m)
    photo_infos = [
        pkg.PhotoInfo(
            id=i["id"],
            folder_id=i["folderId"],
            captured_at=None if i.get("capturedAtSource") == "upload-time" else i.get("capturedAt"),  # "Uploaded", never "Taken"
            uploaded_at=i["uploadedAt"],
            notes=i.get("notes"),
            width=i.get("width"),
            height=i.get("height"),
            size_bytes=i.get("sizeBytes"),
            rating=i.get("rating"),
            description=i.get("description"),
            treatment=i.get("treatment"),
            measurements=tuple(
                pkg.MeasurementInfo(
                    length_mm=m.length_mm, calibration_mm=m.calibration_mm, author_name=m.author_name, created_at=m.created_at, label=m.label
                )
                for m in measured.get(i["id"], [])
            ),
        )
        for i in images
    ]
    comment_infos = [
        pkg.CommentInfo(target_type=c["targetType"], target_id=c["targetId"], author_name=c["authorName"], text=c["text"], created_at=c["createdAt"])
        for c in comments
    ]
    return info, folder_infos, photo_infos, comment_infos
