"""EPR exports follow the share: a package lives only while everything in it may still be seen.

An export (queued, running or ready) holds photos the clinic could see when it was asked for. If
the patient then narrows or revokes the share, or deletes a photo (or its folder), the package
must not stay downloadable: it is withdrawn at once (blob deleted, status "withdrawn") by the
patient's action, and checked again on every status request and download (belt and braces, e.g.
a job that finished while the patient acted).

Kept apart from exports.py so that sharing and library can call it without importing the export
job (which imports library).
"""

from __future__ import annotations

import logging
from typing import Any

from shared_code.domain.common import iso
from shared_code.domain.sharing import covers_folder
from shared_code.ports import EXPORTS, PATIENTS, Dependencies, NotFound
from shared_code.services import access, concurrency, paging

log = logging.getLogger("skinvault.exports")

WITHDRAWN = "withdrawn"
LIVE_STATES = ("queued", "running", "ready")
POINT_READS = 20
WITHDRAWN_REASON = "The patient stopped sharing or deleted photos in this export, so it was deleted. Start a new export."


def export_blob_name(patient_id: str, export_id: str) -> str:
    return f"{patient_id}/{export_id}.zip"


def direct_care_share(services: Dependencies, patient_id: str, clinic_id: str) -> dict[str, Any] | None:
    """The patient's active share with the clinic, when it allows direct care (exports are direct care)."""
    share = access.active_share(services.store, patient_id, (clinic_id,), services.clock.now())
    if share is None or "direct-care" not in share.get("purposes", []):
        return None
    return share


def photos_in_scope(services: Dependencies, doc: dict[str, Any], share: dict[str, Any] | None) -> bool:
    """True when every photo of the export still exists, is ready, and is in a folder the share covers."""
    if share is None:
        return False
    store, patient_id = services.store, doc["patientId"]
    if len(doc["imageIds"]) > POINT_READS:  # one query instead of many point reads
        ready = paging.fetch_all(store, PATIENTS, patient_id, where={"type": "image", "status": "ready"}, order_by="capturedAt")
        folders = {image["id"]: image["folderId"] for image in ready}
        return all(image_id in folders and covers_folder(share, folders[image_id]) for image_id in doc["imageIds"])
    for image_id in doc["imageIds"]:
        try:
            image = store.read(PATIENTS, patient_id, image_id)
        except NotFound:
            return False
        if image.get("type") != "image" or image.get("status") != "ready" or not covers_folder(share, image["folderId"]):
            return False
    return True


def withdraw(services: Dependencies, doc: dict[str, Any]) -> dict[str, Any]:
    """Mark the export withdrawn (from then on it is never served), then delete its package.
    Idempotent: calling it again deletes the package again (should the first delete have failed)."""

    def change(d: dict[str, Any]) -> bool | None:
        if d.get("status") == WITHDRAWN:
            return False
        d.update(status=WITHDRAWN, reason=WITHDRAWN_REASON, withdrawnAt=iso(services.clock.now()))
        return None

    stored = concurrency.modify(services.store, PATIENTS, doc, change) or doc
    services.blobs.delete(EXPORTS, export_blob_name(doc["patientId"], doc["id"]))
    log.info("export withdrawn export_id=%s", doc["id"])
    return stored


def end_exports_out_of_scope(services: Dependencies, patient_id: str) -> int:
    """After the patient narrowed or revoked a share or deleted photos: withdraw every live export
    of theirs that holds something no longer shared. Returns how many were withdrawn."""
    withdrawn = 0
    shares: dict[str, dict[str, Any] | None] = {}
    for doc in paging.fetch_all(services.store, PATIENTS, patient_id, where={"type": "export"}, order_by="createdAt"):
        if doc.get("status") not in LIVE_STATES:
            continue
        clinic_id = doc["clinicId"]
        if clinic_id not in shares:
            shares[clinic_id] = direct_care_share(services, patient_id, clinic_id)
        if not photos_in_scope(services, doc, shares[clinic_id]):
            withdraw(services, doc)
            withdrawn += 1
    return withdrawn
