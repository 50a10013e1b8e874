"""ImageUploadedHandler: what happens when the phone's ciphertext lands in the uploads container.

Decrypt through the KEK resolver (our v2 AES-GCM only), check it is a real photo within limits,
orient and strip metadata, make thumbnail and preview, score quality, store all three
re-encrypted, mark the image ready (or rejected with a reason a patient understands), delete the
upload, and queue a notification when a share covers the folder. Idempotent: a second run for the
same upload finds the image no longer pending and only makes sure the upload blob is gone.

A photo (or its folder, or the account) deleted while it is processed: the run finds it gone at
the end and deletes what it wrote, so no rendition is left with no metadata. An upload someone
holds a lease on (the upload link's write permission allows one) is rejected, not left pending.
"""

from __future__ import annotations

import logging
from typing import Any

from shared_code import telemetry
from shared_code.domain import imaging
from shared_code.domain.common import iso, parse_instant, parse_wall_clock
from shared_code.domain.sharing import ACTIVE, covers_folder, share_state
from shared_code.ports import IMAGES, NOTIFICATIONS_QUEUE, PATIENTS, UPLOADS, EncryptionRejected, NotFound
from shared_code.services import cases, concurrency, deletion
from shared_code.services.library import image_blob_name
from shared_code.services.plaintext import TooLarge, read_all

log = logging.getLogger("skinvault.processing")

ENCRYPTION_MESSAGES = {
    "not-encrypted": "The photo arrived without SkinVault's encryption. Please upload it again from the SkinVault app.",
    "unsupported-encryption": "The photo was encrypted in an old or unsupported way. Please update the app and upload it again.",
    "metadata-invalid": "The photo's encryption details were damaged on the way. Please upload it again.",
    "foreign-key": "The photo was not locked with SkinVault's key. Please upload it again from the SkinVault app.",
    "integrity": "The photo was damaged or changed on the way, so we could not trust it. Please upload it again.",
}
LOCKED_MESSAGE = (
    "The photo was locked by another program while it was sent, so we could not accept it. Please upload it again from the SkinVault app."
)
EXPIRED_MESSAGE = "The photo did not arrive before its upload link expired. Please add it again."
LOST_MESSAGE = "This photo's stored file was lost. Please add it again."
TOO_LARGE_MESSAGE = "The photo is larger than we can accept. Please take it again with normal camera settings."
GCM_OVERHEAD_PER_REGION = 28
REGION = 4 * 1024 * 1024


def parse_upload_name(blob_name: str) -> tuple[str, str] | None:
    """'uploads/<patientId>/<imageId>' or '<patientId>/<imageId>' -> (patientId, imageId)."""
    name = blob_name.removeprefix(UPLOADS + "/")
    parts = name.split("/")
    if len(parts) != 2 or not parts[0].startswith("pt-") or not parts[1].startswith("img-"):
        return None
    return parts[0], parts[1]


def handle_upload(services: Any, blob_name: str) -> str:
    """Returns the image's final status ('ready', 'rejected', 'ignored')."""
    parsed = parse_upload_name(blob_name)
    if parsed is None:
        log.warning("upload blob with an unexpected name ignored")
        return "ignored"
    patient_id, image_id = parsed
    upload_name = f"{patient_id}/{image_id}"
    try:
        image = services.store.read(PATIENTS, patient_id, image_id)
    except NotFound:
        log.info("upload for unknown or deleted image image_id=%s: blob deleted", image_id)
        services.blobs.delete(UPLOADS, upload_name)
        return "ignored"
    if image.get("status") != "pending":
        services.blobs.delete(UPLOADS, upload_name)  # a repeat delivery: already processed
        return image["status"]
    # continue the trace of the request that started the upload (recorded in the image document)
    with telemetry.resumed(image.get("traceContext"), "upload.process", {"skinvault.image_id": telemetry.safe_id(image_id)}) as span:
        status = _process(services, image, upload_name)
        span.set_attribute("skinvault.status", status)
        return status


def _process(services: Any, image: dict, upload_name: str) -> str:
    patient_id, image_id = image["patientId"], image["id"]
    settings = services.settings
    try:
        info = services.blobs.info(UPLOADS, upload_name)
    except NotFound:
        return "pending"  # not there (yet): nothing to do
    if info.leased:
        return _reject(services, image, upload_name, "locked", LOCKED_MESSAGE)
    limit = settings.max_upload_bytes
    if info.size > limit + (limit // REGION + 1) * GCM_OVERHEAD_PER_REGION:
        return _reject(services, image, upload_name, "too-large", TOO_LARGE_MESSAGE)
    try:
        # The plaintext is passed inline, never bound to a name here: process_photo then holds the
        # only reference and lets go of it as soon as it has its stripped copy (peak memory).
        photo = imaging.process_photo(
            read_all(services.blobs.read_decrypted(UPLOADS, upload_name), limit=limit), max_pixels=settings.max_image_pixels, max_bytes=limit
        )
    except TooLarge:
        return _reject(services, image, upload_name, imaging.TOO_LARGE, TOO_LARGE_MESSAGE)
    except EncryptionRejected as exc:
        return _reject(services, image, upload_name, exc.reason_code, ENCRYPTION_MESSAGES.get(exc.reason_code, ENCRYPTION_MESSAGES["integrity"]))
    except imaging.ImageRejected as exc:
        return _reject(services, image, upload_name, exc.reason_code, exc.patient_message)

    for rendition, data in (("original", photo.original_jpeg), ("thumbnail", photo.thumbnail_jpeg), ("preview", photo.preview_jpeg)):
        services.blobs.put_encrypted(IMAGES, image_blob_name(patient_id, image_id, rendition), data)
    changes = {
        "status": "ready",
        "width": photo.width,
        "height": photo.height,
        "sizeBytes": len(photo.original_jpeg),
        "sourceFormat": photo.source_format,
        "quality": photo.quality.to_dict(),
        "processedAt": iso(services.clock.now()),
        "sourceEtag": info.etag,
    }
    camera_time = _camera_time(photo.captured_at)
    del photo  # the renditions are stored: nothing decrypted is kept a moment longer than needed
    if camera_time and image.get("capturedAtSource") != "patient":
        changes["capturedAt"] = camera_time
        changes["capturedAtSource"] = "camera"
    if not _folder_exists(services, patient_id, image["folderId"]):
        # The folder was deleted while this photo was processed: the photo goes with it.
        log.info("folder deleted during processing image_id=%s: photo removed", image_id)
        deletion.delete_image(services, patient_id, image_id)
        return "ignored"
    outcome = _finish(services, image, changes)
    if outcome == GONE:
        # Deleted (the photo, or the whole account) while it was processed: what this run wrote
        # would otherwise stay behind with no metadata referring to it.
        log.info("image deleted during processing image_id=%s: its renditions removed", image_id)
        deletion.remove_image_leftovers(services, patient_id, image_id)
        return "ignored"
    if outcome == SETTLED:
        return "ready"
    services.blobs.delete(UPLOADS, upload_name)
    _queue_new_image_notifications(services, patient_id, image["folderId"], image_id)
    log.info("upload processed image_id=%s status=ready", image_id)
    _record_time_to_ready(services, image)
    return "ready"


def _folder_exists(services: Any, patient_id: str, folder_id: str) -> bool:
    try:
        services.store.read(PATIENTS, patient_id, folder_id)
    except NotFound:
        return False
    return True


def _record_time_to_ready(services: Any, image: dict) -> None:
    """The workbook's upload-to-ready time (a duration, no ids)."""
    try:
        telemetry.record_time_to_ready((services.clock.now() - parse_instant(str(image.get("uploadedAt") or ""))).total_seconds())
    except ValueError:
        pass


def _camera_time(value: str | None) -> str | None:
    """EXIF capture time as UTC; a camera that wrote no offset is taken to be on UK time."""
    if not value:
        return None
    try:
        return iso(parse_wall_clock(value))
    except ValueError:
        return None


WRITTEN, SETTLED, GONE = "written", "settled", "gone"


def _finish(services: Any, image: dict, changes: dict) -> str:
    """Write the outcome once. SETTLED: a concurrent run already finished it (it wins quietly);
    GONE: the photo was deleted meanwhile."""
    wrote = False

    def change(doc: dict) -> bool | None:
        nonlocal wrote
        wrote = doc.get("status") == "pending"
        if not wrote:
            return False
        doc.update(changes)
        return None

    stored = concurrency.modify(services.store, PATIENTS, image, change)
    if stored is None:
        return GONE
    return WRITTEN if wrote else SETTLED


def _reject(services: Any, image: dict, upload_name: str, code: str, message: str) -> str:
    services.blobs.delete(UPLOADS, upload_name)
    services.blobs.delete_prefix(IMAGES, f"{image['patientId']}/{image['id']}/")
    _finish(services, image, {"status": "rejected", "rejectionCode": code, "rejectionReason": message, "processedAt": iso(services.clock.now())})
    log.info("upload rejected image_id=%s reason=%s", image["id"], code)
    return "rejected"


def expire_upload(services: Any, image: dict) -> bool:
    """The upload link expired and no photo arrived: the session ends rejected (not pending for ever).
    False when the photo was settled or deleted meanwhile."""
    changes = {"status": "rejected", "rejectionCode": "expired", "rejectionReason": EXPIRED_MESSAGE, "processedAt": iso(services.clock.now())}
    return _finish(services, image, changes) == WRITTEN


def regenerate_renditions(services: Any, patient_id: str, image_id: str) -> None:
    """Make the thumbnail and preview again from the stored original (which is already oriented
    and stripped). Raises NotFound when the original is gone too."""
    settings = services.settings
    original = read_all(services.blobs.read_decrypted(IMAGES, image_blob_name(patient_id, image_id, "original")), limit=settings.max_upload_bytes * 2)
    photo = imaging.process_photo(original, max_pixels=settings.max_image_pixels, max_bytes=settings.max_upload_bytes * 2)
    del original
    services.blobs.put_encrypted(IMAGES, image_blob_name(patient_id, image_id, "thumbnail"), photo.thumbnail_jpeg)
    services.blobs.put_encrypted(IMAGES, image_blob_name(patient_id, image_id, "preview"), photo.preview_jpeg)


def _queue_new_image_notifications(services: Any, patient_id: str, folder_id: str, image_id: str) -> None:
    now = services.clock.now()
    page = services.store.query(PATIENTS, patient_id, where={"type": "share"}, limit=200)
    for share in page.items:
        if share_state(share, now) == ACTIVE and covers_folder(share, folder_id):
            case_id = cases.note_new_image(services, share["clinicId"], patient_id)
            services.queue.send(
                NOTIFICATIONS_QUEUE,
                {"kind": "new-images", "clinicId": share["clinicId"], "caseId": case_id, "imageId": image_id},
            )
