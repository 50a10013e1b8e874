"""What the clinic's worklist row and case header show, kept on the documents as things change.

So that no request's cost grows with the patient's library (issue 15):
- a folder carries `readyImageCount`, bumped as a photo becomes ready or is deleted;
- a case carries `imageCount` (ready photos in the share's scope), bumped the same way and recomputed
  from the folders' counts (not the photos) when a share is granted, widened or narrowed;
- a case carries `row`: the patient summary, the folders in scope and the share's end, written when
  the case is opened or the share changes and refreshed when the patient edits their profile or
  folders. A worklist page is then one query over case documents, with no read per row.

Documents written before these fields existed are still served: a folder without its count is
counted once (and the count stored), a case without `row` is listed the old way (cases.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shared_code.domain.common import parse_instant
from shared_code.domain.sharing import ACTIVE, covers_folder, share_state
from shared_code.ports import CLINICS, PATIENTS, MetadataStore, NotFound
from shared_code.services import concurrency, paging, profile

ROW_FIELDS = ("patient", "folders", "shareId", "shareExpiresAt")
log = logging.getLogger("skinvault.case_summary")


def after_commit(what: str, patient_id: str, update: Callable[[], None]) -> None:
    """Keep the counts and rows after a change has been committed (a delete): a failure here must not
    turn a done delete into an error, so it is logged (ids only) and the figure may lag by one until
    the next change to the same share, folder or profile rewrites it."""
    try:
        update()
    except Exception as exc:  # noqa: BLE001 - the delete itself has happened
        log.warning("case summary not updated after %s patient_id=%s (%s)", what, patient_id, type(exc).__name__)


def patient_summary(store: MetadataStore, patient_id: str) -> dict:
    prof = profile.read_profile(store, patient_id) or {}
    return {"displayName": prof.get("displayName") or "", "dateOfBirth": prof.get("dateOfBirth"), "nhsNumber": prof.get("nhsNumber")}


# ----------------------------------------------------------------------------- folder counts
def folder_ready_count(store: MetadataStore, folder: dict) -> int:
    """The folder's ready photos, from its stored count; a folder from before counts existed is counted once."""
    count = folder.get("readyImageCount")
    if isinstance(count, int):
        return count
    where = {"type": "image", "folderId": folder["id"], "status": "ready"}
    count = len(paging.fetch_all(store, PATIENTS, folder["patientId"], where=where, order_by="capturedAt"))

    def remember(doc: dict) -> bool | None:
        if isinstance(doc.get("readyImageCount"), int):
            return False  # someone else counted (or bumped) meanwhile
        doc["readyImageCount"] = count
        return None

    stored = concurrency.modify(store, PATIENTS, folder, remember)
    if stored is not None and isinstance(stored.get("readyImageCount"), int):
        folder.update(stored)
        return int(stored["readyImageCount"])
    return count


def bump_folder(store: MetadataStore, patient_id: str, folder_id: str, delta: int) -> None:
    """A photo of the folder became ready (+1) or a ready one went (-1)."""

    def change(doc: dict) -> bool | None:
        if doc.get("type") != "folder":
            return False
        if not isinstance(doc.get("readyImageCount"), int):
            return False  # never counted: the first reader counts it, whatever happened before
        doc["readyImageCount"] = max(0, doc["readyImageCount"] + delta)
        return None

    concurrency.modify(store, PATIENTS, (patient_id, folder_id), change)


# ----------------------------------------------------------------------------- case row and counts
def _folders(store: MetadataStore, patient_id: str) -> list[dict]:
    # folders are few per patient (each holds many photos): listing them does not grow with the library
    return paging.fetch_all(store, PATIENTS, patient_id, where={"type": "folder"}, order_by="createdAt")


def scope_fields(store: MetadataStore, patient_id: str, share: dict) -> dict:
    """The case fields a share determines: the worklist row and the count of photos in scope."""
    folders = [f for f in _folders(store, patient_id) if covers_folder(share, f["id"])]
    return {
        "row": {
            "patient": patient_summary(store, patient_id),
            "folders": [{"id": f["id"], "name": f["name"]} for f in folders],
            "shareId": share["id"],
            "shareExpiresAt": share["expiresAt"],
        },
        "imageCount": sum(folder_ready_count(store, f) for f in folders),
    }


def refresh_cases(store: MetadataStore, patient_id: str, now: Any) -> None:
    """The patient changed their profile or folders: rewrite the row of each case they share with."""
    from shared_code.services.sharing import case_id_for

    shares = store.query(PATIENTS, patient_id, where={"type": "share"}, limit=200).items
    for share in shares:
        if share_state(share, now) != ACTIVE:
            continue
        fields = scope_fields(store, patient_id, share)

        def change(case: dict, fields: dict = fields, share_id: str = share["id"]) -> bool | None:
            if not case.get("active") or case.get("shareId") not in (None, share_id):
                return False
            case.update(fields)
            return None

        concurrency.modify(store, CLINICS, (share["clinicId"], case_id_for(share["clinicId"], patient_id)), change)


def row_of(case: dict) -> dict | None:
    """The stored row (fast path), or None when the case predates it."""
    row = case.get("row")
    if not isinstance(row, dict) or not all(k in row for k in ROW_FIELDS):
        return None
    return row


def row_share_expired(row: dict, now: Any) -> bool:
    try:
        return parse_instant(row["shareExpiresAt"]) <= now
    except (TypeError, ValueError):
        return True


def image_gone(store: MetadataStore, image: dict, now: Any) -> None:
    """A ready photo was deleted: its folder and every case that could see it count one fewer."""
    from shared_code.services.sharing import case_id_for

    if image.get("status") != "ready":
        return
    patient_id, folder_id = image["patientId"], image["folderId"]
    bump_folder(store, patient_id, folder_id, -1)
    shares = store.query(PATIENTS, patient_id, where={"type": "share"}, limit=200).items
    processed = image.get("processedAt") or image.get("uploadedAt") or ""
    for share in shares:
        if share_state(share, now) != ACTIVE or not covers_folder(share, folder_id):
            continue

        def change(case: dict) -> bool | None:
            if not case.get("active"):
                return False
            if isinstance(case.get("imageCount"), int):
                case["imageCount"] = max(0, case["imageCount"] - 1)
            reviewed = case.get("lastReviewedAt")
            if case.get("newImageCount", 0) > 0 and (not reviewed or processed > reviewed):
                case["newImageCount"] -= 1  # it was one of the new ones
            return None

        try:
            concurrency.modify(store, CLINICS, (share["clinicId"], case_id_for(share["clinicId"], patient_id)), change)
        except NotFound:
            continue
