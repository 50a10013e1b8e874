"""ImageUploadedHandler: what happens when the phone's ciphertext lands in the uploads container.

Decrypt through the KEK resolver (our v2 AES-GCM only), check it is a real photo within limits,
orient and strip metadata, make thumbnail and preview, score quality, store all three
re-encrypted, mark the image ready (or rejected with a reason a patient understands), delete the
upload, and queue a notification when a share covers the folder. Idempotent: a second run for the
same upload finds the image no longer pending and only makes sure the upload blob is gone.
"""

from __future__ import annotations

import logging
from typing import Any

from shared_code.domain import imaging
from shared_code.domain.common import iso, parse_wall_clock
from shared_code.domain.sharing import ACTIVE, covers_folder, share_state
from shared_code.ports import IMAGES, NOTIFICATIONS_QUEUE, PATIENTS, UPLOADS, EncryptionRejected, NotFound
from shared_code.services import case_summary, cases, concurrency
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

    settings = services.settings
    try:
        info = services.blobs.info(UPLOADS, upload_name)
    except NotFound:
        return "pending"  # not there (yet): nothing to do
    limit = settings.max_upload_bytes
    if info.size > limit + (limit // REGION + 1) * GCM_OVERHEAD_PER_REGION:
        return _reject(services, image, upload_name, "too-large", TOO_LARGE_MESSAGE)
    try:
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
    if camera_time and image.get("capturedAtSource") != "patient":
        changes["capturedAt"] = camera_time
        changes["capturedAtSource"] = "camera"
    if not _finish(services, image, changes):
        return "ready"
    services.blobs.delete(UPLOADS, upload_name)
    case_summary.bump_folder(services.store, patient_id, image["folderId"], +1)
    _queue_new_image_notifications(services, patient_id, image["folderId"], image_id)
    log.info("upload processed image_id=%s status=ready", image_id)
    return "ready"


def _camera_time(value: str | None) -> str | None:
    """EXIF capture time as UTC; a camera that wrote no offset is taken to be on UK time."""
    if not value:
        return None
    try:
        return iso(parse_wall_clock(value))
    except ValueError:
        return None


def _finish(services: Any, image: dict, changes: dict) -> bool:
    """Write the outcome once; a concurrent run that already finished (or a delete) wins quietly."""
    wrote = False

    def change(doc: dict) -> bool | None:
        nonlocal wrote
        wrote = doc.get("status") == "pending"
        if not wrote:
            return False
        doc.update(changes)
        return None

    concurrency.modify(services.store, PATIENTS, image, change)
    return wrote


def _reject(services: Any, image: dict, upload_name: str, code: str, message: str) -> str:
    services.blobs.delete(UPLOADS, upload_name)
    services.blobs.delete_prefix(IMAGES, f"{image['patientId']}/{image['id']}/")
    _finish(services, image, {"status": "rejected", "rejectionCode": code, "rejectionReason": message, "processedAt": iso(services.clock.now())})
    log.info("upload rejected image_id=%s reason=%s", image["id"], code)
    return "rejected"


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
