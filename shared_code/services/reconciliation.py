"""Reconciliation: the timer's run that leaves nothing stuck and nothing orphaned.

Each run (every few minutes; idempotent, bounded, safe when two instances fire at once):

1. Due work items (services/pending_work.py), earliest first, at most `items_per_run`:
   - a deletion or an erasure whose request could not finish it: finished now (metadata was
     already gone; the blobs, lookups and clinic cases go);
   - an upload session past its link's expiry: a photo still `pending` whose blob exists is
     processed again (a metadata outage had sent it to the poison queue); one with no blob is
     rejected ("did not arrive before its upload link expired");
   - an export past the time any export takes: still `queued`/`running`, it ends `failed` with a
     reason the clinician sees, and they can ask again;
   - a ready photo a read found without one of its renditions: made again from the original, or
     the photo marked lost when the original is gone too.
   A step that fails is postponed with a growing delay (never dropped) and the run goes on.
2. A sweep of each blob container, one bounded page per run from a stored cursor (the next run
   carries on; after the last page it starts again): blobs no metadata refers to, and export
   packages past their download time, are deleted (once older than a grace period, so nothing
   being written right now is touched); a `ready`
   photo missing its thumbnail or preview gets them made again from the original; one whose
   original is gone is marked rejected with a reason, so it is never shown as ready with no content.

Logs and counts carry ids and numbers only.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared_code import telemetry
from shared_code.domain.common import iso, parse_instant
from shared_code.ports import EXPORTS, IMAGES, LOOKUPS, PATIENTS, UPLOADS, BlobInfo, NotFound
from shared_code.services import account, concurrency, deletion, pending_work, processing
from shared_code.services.exports import EXPORT_STUCK_AFTER
from shared_code.services.library import RENDITIONS

log = logging.getLogger("skinvault.reconciliation")

CURSORS = "reconciliation-cursor"  # LOOKUPS partition holding one sweep cursor per container
EXPORT_STUCK_MESSAGE = "The export did not finish in time and was stopped. Please request it again."


@dataclass(frozen=True)
class Limits:
    items_per_run: int = 50
    blobs_per_run: int = 500
    retry_after: timedelta = timedelta(minutes=5)  # the first postponement; doubles up to an hour
    blob_grace: timedelta = timedelta(minutes=30)  # younger blobs may be mid-write: never swept
    export_stuck_after: timedelta = EXPORT_STUCK_AFTER


DEFAULT_LIMITS = Limits()


def run(services: Any, limits: Limits = DEFAULT_LIMITS) -> dict[str, int]:
    """One reconciliation run; returns what it did, by outcome (for the log and the tests)."""
    now = services.clock.now()
    counts: Counter[str] = Counter()
    for item in pending_work.due(services.store, now, limits.items_per_run):
        try:
            counts[_settle(services, item, now, limits)] += 1
        except Exception as exc:  # noqa: BLE001 - one item's failure never stops the run
            log.warning("work item %s for target=%s postponed (%s)", item.get("kind"), item.get("targetId"), type(exc).__name__)
            counts["postponed"] += 1
            try:
                pending_work.postpone(services.store, item, now, limits.retry_after)
            except Exception:  # noqa: BLE001 - still due: the next run takes it again
                log.warning("work item %s could not be postponed", item.get("kind"))
    for container in (IMAGES, UPLOADS, EXPORTS):
        try:
            counts.update(_sweep(services, container, now, limits))
        except Exception as exc:  # noqa: BLE001 - the next run tries again from the same cursor
            log.warning("sweep of %s stopped (%s)", container, type(exc).__name__)
            counts["sweep-stopped"] += 1
    result = dict(counts)
    log.info("reconciliation run %s", result)
    _report_overdue_uploads(services)
    return result


UPLOAD_OVERDUE_AFTER = timedelta(minutes=15)


def pending_uploads(services: Any, older_than: timedelta) -> list[tuple[dict, dict]]:
    """(image, work item) of each photo still `pending` longer than `older_than` after its upload
    session opened (the durable work list has one item per open session)."""
    now, found = services.clock.now(), []
    continuation: str | None = None
    while True:
        page = services.store.query(LOOKUPS, pending_work.PARTITION, where={"kind": pending_work.UPLOAD}, limit=200, continuation=continuation)
        for item in page.items:
            image = _read(services, item["patientId"], item["targetId"], "image")
            if image is None or image.get("status") != "pending":
                continue
            try:
                opened = parse_instant(image.get("uploadedAt") or "")
            except ValueError:
                continue
            if now - opened >= older_than:
                found.append((image, item))
        continuation = page.continuation
        if not continuation:
            return found


def _report_overdue_uploads(services: Any) -> None:
    """The metric the `uploads-pending-too-long` alert reads (a count, no ids)."""
    try:
        overdue = len(pending_uploads(services, UPLOAD_OVERDUE_AFTER))
    except Exception as exc:  # noqa: BLE001 - a metric never fails the run
        log.warning("overdue uploads not counted (%s)", type(exc).__name__)
        return
    telemetry.record_uploads_pending_overdue(overdue)
    log.info("uploads pending overdue count=%d", overdue)


# ----------------------------------------------------------------------------- work items
def settle(services: Any, item: dict, limits: Limits = DEFAULT_LIMITS) -> str:
    """Settle one work item now, as a run would (the manage CLI's re-drive); returns the outcome."""
    return _settle(services, item, services.clock.now(), limits)


def _settle(services: Any, item: dict, now: datetime, limits: Limits) -> str:
    kind = item["kind"]
    if kind in (pending_work.DELETE_IMAGE, pending_work.DELETE_FOLDER):
        deletion.resume(services, item)
        return "deletion-finished"
    if kind == pending_work.ERASE_ACCOUNT:
        account.finish_erasure(services, item["patientId"])
        pending_work.done(services.store, item)
        return "erasure-finished"
    if kind == pending_work.UPLOAD:
        outcome = _settle_upload(services, item)
    elif kind == pending_work.EXPORT:
        outcome = _settle_export(services, item, now, limits)
    elif kind == pending_work.CHECK_RENDITIONS:
        image = _read(services, item["patientId"], item["targetId"], "image")
        outcome = _check_renditions(services, image, []) if image is not None and image.get("status") == "ready" else "renditions-settled"
    else:
        outcome = "unknown-dropped"
    pending_work.done(services.store, item)
    return outcome


def _read(services: Any, patient_id: str, doc_id: str, doc_type: str) -> dict | None:
    try:
        doc = services.store.read(PATIENTS, patient_id, doc_id)
    except NotFound:
        return None
    return doc if doc.get("type") == doc_type else None


def _settle_upload(services: Any, item: dict) -> str:
    pid, image_id = item["patientId"], item["targetId"]
    image = _read(services, pid, image_id, "image")
    if image is None or image.get("status") != "pending":
        return "upload-settled"
    name = deletion.upload_blob_name(pid, image_id)
    try:
        services.blobs.info(UPLOADS, name)
    except NotFound:
        if processing.expire_upload(services, image):
            log.info("upload expired without a photo image_id=%s: rejected", image_id)
            return "upload-expired"
        return "upload-settled"
    status = processing.handle_upload(services, f"{UPLOADS}/{name}")
    if status == "pending":
        raise RuntimeError("the upload is still pending after processing it again")
    log.info("stuck upload processed again image_id=%s status=%s", image_id, status)
    return "upload-redriven"


def _settle_export(services: Any, item: dict, now: datetime, limits: Limits) -> str:
    export = _read(services, item["patientId"], item["targetId"], "export")
    if export is None or export.get("status") not in ("queued", "running"):
        return "export-settled"
    if now - parse_instant(export["createdAt"]) < limits.export_stuck_after:
        raise RuntimeError("the export may still be running")  # recorded too early: look again later

    def fail(doc: dict) -> bool | None:
        if doc.get("status") not in ("queued", "running"):
            return False
        doc.update(status="failed", reason=EXPORT_STUCK_MESSAGE, failedAt=iso(now))
        return None

    concurrency.modify(services.store, PATIENTS, export, fail)
    log.info("stuck export ended export_id=%s", export["id"])
    return "export-failed"


# ----------------------------------------------------------------------------- blob sweeps
def _sweep(services: Any, container: str, now: datetime, limits: Limits) -> Counter[str]:
    cursor = _cursor(services, container)
    items, token = services.blobs.list_page(container, continuation=cursor.get("token"), limit=limits.blobs_per_run)
    counts: Counter[str] = Counter()
    groups: dict[tuple[str, str], list[BlobInfo]] = {}
    for info in items:
        key = _owner(container, info.name)
        if key is None:
            counts["blob-unrecognised"] += 1  # never ours to delete: left alone
            continue
        groups.setdefault(key, []).append(info)
    for (pid, doc_id), blobs in groups.items():
        counts[_check_group(services, container, pid, doc_id, blobs, now, limits)] += 1
    _save_cursor(services, cursor, token)
    return counts


def _owner(container: str, name: str) -> tuple[str, str] | None:
    """(patient id, document id) a blob belongs to, from its name."""
    parts = name.split("/")
    if not parts[0].startswith("pt-"):
        return None
    if container == IMAGES and len(parts) == 3 and parts[1].startswith("img-"):
        return parts[0], parts[1]
    if container == UPLOADS and len(parts) == 2 and parts[1].startswith("img-"):
        return parts[0], parts[1]
    if container == EXPORTS and len(parts) == 2 and parts[1].startswith("exp-"):
        return parts[0], parts[1].removesuffix(".zip")
    return None


def _check_group(services: Any, container: str, pid: str, doc_id: str, blobs: list[BlobInfo], now: datetime, limits: Limits) -> str:
    doc = _read(services, pid, doc_id, "export" if container == EXPORTS else "image")
    orphan = doc is None
    if container == UPLOADS and doc is not None:
        orphan = doc.get("status") != "pending"  # processed: the upload should have gone
    if container == IMAGES and doc is not None and doc.get("status") == "rejected":
        orphan = True  # a rejected photo keeps no renditions
    if container == EXPORTS and doc is not None and _expired(doc, now):
        orphan = True  # an export package is deleted once its download time is over
    if orphan:
        if any(b.created_at is not None and now - b.created_at < limits.blob_grace for b in blobs):
            return "blob-too-young"
        for blob in blobs:
            services.blobs.delete(container, blob.name)
        log.info("orphan blobs deleted container=%s target=%s count=%d", container, doc_id, len(blobs))
        return "orphan-deleted"
    if container == IMAGES and doc is not None and doc.get("status") == "ready":
        return _check_renditions(services, doc, blobs)
    return "blob-ok"


def _expired(export: dict, now: datetime) -> bool:
    try:
        return export.get("status") == "ready" and bool(export.get("expiresAt")) and parse_instant(export["expiresAt"]) <= now
    except ValueError:
        return False


def _check_renditions(services: Any, image: dict, page_blobs: list[BlobInfo]) -> str:
    pid, image_id = image["patientId"], image["id"]
    names = {b.name.rsplit("/", 1)[1].removesuffix(".jpg") for b in page_blobs}
    if len(names) < len(RENDITIONS):  # the page may have cut the group (or there is none): look at all of it
        names = {b.name.rsplit("/", 1)[1].removesuffix(".jpg") for b in services.blobs.list(IMAGES, deletion.renditions_prefix(pid, image_id))}
    missing = [r for r in RENDITIONS if r not in names]
    if not missing:
        return "blob-ok"
    if "original" in names:
        processing.regenerate_renditions(services, pid, image_id)
        log.info("renditions made again from the original image_id=%s missing=%s", image_id, ",".join(missing))
        return "renditions-regenerated"
    mark_content_lost(services, image)
    return "content-lost"


def mark_content_lost(services: Any, image: dict) -> None:
    """A ready photo whose original is gone can never be shown again: say so instead of failing."""

    def lost(doc: dict) -> bool | None:
        if doc.get("status") != "ready":
            return False
        doc.update(status="rejected", rejectionCode="content-lost", rejectionReason=processing.LOST_MESSAGE)
        return None

    concurrency.modify(services.store, PATIENTS, image, lost)
    services.blobs.delete_prefix(IMAGES, deletion.renditions_prefix(image["patientId"], image["id"]))
    log.warning("photo content lost image_id=%s: marked rejected", image["id"])


def _cursor(services: Any, container: str) -> dict:
    try:
        return services.store.read(LOOKUPS, CURSORS, container)
    except NotFound:
        return {"id": container, "key": CURSORS, "token": None}


def _save_cursor(services: Any, cursor: dict, token: str | None) -> None:
    doc = {k: v for k, v in cursor.items() if k != "_etag"}
    doc["token"] = token
    services.store.upsert(LOOKUPS, doc)
