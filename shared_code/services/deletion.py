"""Deleting a photo or a folder in an order that stays safe when a dependency fails half-way.

1. Record the work item. Nothing has changed yet: if this fails, "nothing was lost" (503) is true.
2. The commit point: the metadata document goes, so every read answers 404 from then on.
3. The rest (id lookups, the upload blob, the renditions, a folder's photos). A failure here is
   logged and the caller is told the photo is deleted, because it is: the reconciliation timer
   finishes the work item, retrying until nothing is left.

Metadata before blobs, never the other way round: a failure can leave unreachable ciphertext for a
while (removed by the retry, or by the sweep of blobs no metadata refers to), but never a `ready`
photo whose content is gone. The blob trigger cooperates: when it finds its photo (or the photo's
folder) gone at the end, it deletes what it wrote (services/processing.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from shared_code.ports import IMAGES, PATIENTS, UPLOADS, Dependencies, NotFound
from shared_code.services import access, paging, pending_work

log = logging.getLogger("skinvault.deletion")

# The request itself finishes the work almost always; the timer looks again after this long.
RETRY_AFTER = timedelta(minutes=5)


def upload_blob_name(patient_id: str, image_id: str) -> str:
    return f"{patient_id}/{image_id}"


def renditions_prefix(patient_id: str, image_id: str) -> str:
    return f"{patient_id}/{image_id}/"


# ----------------------------------------------------------------------------- photos
def delete_image(services: Dependencies, patient_id: str, image_id: str) -> None:
    item = pending_work.record(services.store, pending_work.DELETE_IMAGE, patient_id, image_id, services.clock.now() + RETRY_AFTER)
    _delete_doc(services, patient_id, image_id)  # the commit point
    finish_now(services, item, lambda: remove_image_leftovers(services, patient_id, image_id))


def remove_image_leftovers(services: Dependencies, patient_id: str, image_id: str) -> None:
    """Everything of a photo but its metadata document (idempotent)."""
    access.forget_owner(services.store, "img", image_id)
    services.blobs.delete(UPLOADS, upload_blob_name(patient_id, image_id))
    services.blobs.delete_prefix(IMAGES, renditions_prefix(patient_id, image_id))


# ----------------------------------------------------------------------------- folders
def delete_folder(services: Dependencies, patient_id: str, folder_id: str) -> None:
    item = pending_work.record(services.store, pending_work.DELETE_FOLDER, patient_id, folder_id, services.clock.now() + RETRY_AFTER)
    _delete_doc(services, patient_id, folder_id)  # the commit point: the folder is gone for every reader
    finish_now(services, item, lambda: remove_folder_leftovers(services, patient_id, folder_id))


def remove_folder_leftovers(services: Dependencies, patient_id: str, folder_id: str) -> None:
    """The photos of a deleted folder, each metadata first, then its blobs (idempotent)."""
    for image in paging.fetch_all(services.store, PATIENTS, patient_id, where={"type": "image", "folderId": folder_id}, order_by="capturedAt"):
        _delete_doc(services, patient_id, image["id"])
        remove_image_leftovers(services, patient_id, image["id"])
    access.forget_owner(services.store, "fld", folder_id)


# ----------------------------------------------------------------------------- shared steps
def finish_now(services: Dependencies, item: dict[str, Any], finish: Callable[[], None]) -> bool:
    """Run the steps after a commit point. On failure, leave the work item for the timer (which
    retries until done) and report success to the caller anyway: the commit has happened."""
    try:
        finish()
    except Exception as exc:  # noqa: BLE001 - after the commit point every failure is retried later
        log.warning(
            "%s for patient_id=%s target=%s left to the reconciliation timer (%s)",
            item["kind"],
            item["patientId"],
            item["targetId"],
            type(exc).__name__,
        )
        return False
    try:
        pending_work.done(services.store, item)
    except Exception as exc:  # noqa: BLE001 - the timer finds nothing left to do and drops it
        log.warning("work item %s not cleared (%s)", item["kind"], type(exc).__name__)
    return True


def resume(services: Dependencies, item: dict[str, Any]) -> None:
    """The reconciliation timer's step for a deletion item; raises when it must be retried."""
    store, pid, target = services.store, item["patientId"], item["targetId"]
    if _exists(store, pid, target):
        # The commit point was never reached (the request answered 503): nothing to finish.
        log.info("%s for target=%s was never committed: dropped", item["kind"], target)
    elif item["kind"] == pending_work.DELETE_IMAGE:
        remove_image_leftovers(services, pid, target)
    else:
        remove_folder_leftovers(services, pid, target)
    pending_work.done(store, item)


def _delete_doc(services: Dependencies, patient_id: str, doc_id: str) -> None:
    try:
        services.store.delete(PATIENTS, patient_id, doc_id)
    except NotFound:
        pass


def _exists(store: Any, patient_id: str, doc_id: str) -> bool:
    try:
        store.read(PATIENTS, patient_id, doc_id)
    except NotFound:
        return False
    return True
