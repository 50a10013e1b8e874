"""Research export: a researcher asks, the queue-triggered export job builds it, the researcher downloads it.

Like the EPR export: built into a temporary file, stored encrypted (client-side encryption v2) in the
exports container, expires after EXPORT_TTL_HOURS (then 410 and the blob is deleted). Unlike it: the
package is de-identified (export_package/research.py) and covers every participant whose enrolment
is active when the job runs; photos only from the folders they enrolled. Participants who withdrew
are listed as withdrawn, without photos. Each included participant's audit trail records the export.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any, BinaryIO

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso, new_id, parse_instant
from shared_code.domain.errors import Gone, NotFoundError, RuleViolation
from shared_code.domain.studies import timepoint_for
from shared_code.ports import CLINICS, EXPORT_JOBS_QUEUE, EXPORTS, EncryptionRejected, NotFound
from shared_code.services import audit, concurrency, studies

if TYPE_CHECKING:  # pydicom loads on the first research export, not when a worker indexes the app
    from shared_code.export_package.research import ResearchParticipant, ResearchPhoto

log = logging.getLogger("skinvault.research_exports")
JOB_KIND = "research"
CHUNK = 4 * 1024 * 1024


def is_research_job(message: dict) -> bool:
    return message.get("kind") == JOB_KIND


def blob_name(study_id: str, export_id: str) -> str:
    return f"research/{study_id}/{export_id}.zip"


def request_export(services: Any, user: Principal, study_id: str) -> dict:
    study = studies.researcher_study(services, user, study_id)
    now = services.clock.now()
    export_id = new_id("rex")
    services.store.create(
        CLINICS,
        {
            "id": export_id,
            "clinicId": study.clinic_id,
            "type": "research-export",
            "studyId": study.id,
            "requestedBy": user.sub,
            "status": "queued",
            "reason": None,
            "createdAt": iso(now),
            "readyAt": None,
            "expiresAt": None,
            "sizeBytes": None,
            "participantCount": None,
            "photoCount": None,
        },
    )
    services.queue.send(EXPORT_JOBS_QUEUE, {"kind": JOB_KIND, "exportId": export_id, "clinicId": study.clinic_id})
    return {"exportId": export_id, "status": "queued"}


def _export_for(services: Any, user: Principal, study_id: str, export_id: str) -> dict:
    study = studies.researcher_study(services, user, study_id)
    try:
        doc = services.store.read(CLINICS, study.clinic_id, export_id)
    except NotFound:
        raise NotFoundError() from None
    if doc.get("type") != "research-export" or doc["studyId"] != study.id:
        raise NotFoundError()
    return doc


def _state(doc: dict, now: Any) -> str:
    if doc["status"] == "ready" and doc.get("expiresAt") and parse_instant(doc["expiresAt"]) <= now:
        return "expired"
    return doc["status"]


def _view(doc: dict, now: Any) -> dict:
    return {
        "exportId": doc["id"],
        "studyId": doc["studyId"],
        "status": _state(doc, now),
        "reason": doc.get("reason"),
        "participantCount": doc.get("participantCount"),
        "photoCount": doc.get("photoCount"),
        "createdAt": doc["createdAt"],
        "readyAt": doc.get("readyAt"),
        "expiresAt": doc.get("expiresAt"),
        "sizeBytes": doc.get("sizeBytes"),
    }


def export_status(services: Any, user: Principal, study_id: str, export_id: str) -> dict:
    return _view(_export_for(services, user, study_id, export_id), services.clock.now())


def list_exports(services: Any, user: Principal, study_id: str) -> dict:
    study = studies.researcher_study(services, user, study_id)
    page = services.store.query(
        CLINICS, study.clinic_id, where={"type": "research-export", "studyId": study.id}, order_by="createdAt", descending=True, limit=50
    )
    now = services.clock.now()
    return {"items": [_view(d, now) for d in page.items], "continuationToken": None}


def export_content(services: Any, user: Principal, study_id: str, export_id: str) -> bytes:
    doc = _export_for(services, user, study_id, export_id)
    state = _state(doc, services.clock.now())
    if state == "expired":
        services.blobs.delete(EXPORTS, blob_name(study_id, export_id))
        raise Gone("This export has expired and was deleted. Start a new export.")
    if state != "ready":
        raise RuleViolation("This export is not ready yet." if state in ("queued", "running") else "This export failed. Start a new one.")
    data = bytearray()
    for chunk in services.blobs.read_decrypted(EXPORTS, blob_name(study_id, export_id)):
        data += chunk
    return bytes(data)


# ----------------------------------------------------------------------------- the job
def _set(services: Any, doc: dict, **changes: Any) -> dict:
    return concurrency.modify(services.store, CLINICS, doc, lambda d: d.update(changes)) or doc


def _read_file(f: BinaryIO) -> Iterator[bytes]:
    f.seek(0)
    while chunk := f.read(CHUNK):
        yield chunk


def build(services: Any, message: dict) -> str:
    """Queue-triggered: build, encrypt and store one research export. Idempotent; raises to retry on outages."""
    store = services.store
    clinic_id, export_id = str(message.get("clinicId", "")), str(message.get("exportId", ""))
    try:
        doc = store.read(CLINICS, clinic_id, export_id)
    except NotFound:
        return "gone"
    if doc.get("type") != "research-export":
        return "gone"
    if doc["status"] in ("ready", "failed"):
        return doc["status"]
    doc = _set(services, doc, status="running")
    from shared_code.export_package.research import ResearchParticipant, ResearchPhoto, ResearchStudyInfo, build_research_package

    try:
        study = studies.load_study(store, doc["studyId"])
    except NotFoundError:
        _set(services, doc, status="failed", reason="The study no longer exists.")
        return "failed"
    info = ResearchStudyInfo(study.title, study.sponsor, study.rec_reference, study.iras_id, tuple(study.schedule_weeks))
    participants: list[ResearchParticipant] = []
    photos: list[ResearchPhoto] = []
    sources: dict[str, str] = {}  # image id -> patient id (internal, for reading the photo)
    included: list[str] = []
    for participant, enrolment in studies.participant_rows(services, study):
        view = studies.participant_view(services, study, participant, enrolment)
        participants.append(ResearchParticipant(view["participantId"], view["status"], view["yearOfBirth"], view["sex"], view["withdrawnDay"]))
        if enrolment is None:
            continue
        included.append(participant["patientId"])
        for folder, image, day in studies.photo_days(store, participant["patientId"], enrolment):
            sources[image["id"]] = participant["patientId"]
            photos.append(
                ResearchPhoto(image["id"], folder["id"], view["participantId"], day, timepoint_for(study.schedule_weeks, day), folder.get("bodySite"))
            )

    def open_photo(image_id: str) -> bytes:
        return studies.read_image(services, sources[image_id], image_id, "original")

    try:
        with tempfile.TemporaryFile() as spool:
            stats = build_research_package(export_id, doc["createdAt"], info, participants, photos, open_photo, spool)
            stored = services.blobs.put_encrypted(EXPORTS, blob_name(study.id, export_id), _read_file(spool))
    except (EncryptionRejected, ValueError, NotFound) as exc:
        log.warning("research export failed export_id=%s reason=%s", export_id, type(exc).__name__)
        _set(services, doc, status="failed", reason="A photo could not be read for the export. Try again, or contact support.")
        return "failed"
    done = services.clock.now()
    for patient_id in included:
        audit.record(store, done, patient_id, "researcher", doc["requestedBy"], "research-exported", study.clinic_id, ("study", study.id))
    ttl = timedelta(hours=services.settings.export_ttl_hours)
    _set(
        services,
        doc,
        status="ready",
        readyAt=iso(done),
        expiresAt=iso(done + ttl),
        sizeBytes=stats.bytes_written,
        storedBytes=stored.size,
        participantCount=stats.participant_count,
        photoCount=stats.photo_count,
    )
    log.info("research export ready export_id=%s participants=%d photos=%d", export_id, stats.participant_count, stats.photo_count)
    return "ready"
