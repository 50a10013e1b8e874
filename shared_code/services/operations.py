"""The ops team's use cases (issue 18 item 5), behind `python -m scripts.manage`.

- `stuck`: pending uploads and queued/running exports older than N minutes (from the durable work
  list, services/pending_work.py) and messages in the poison queues;
- re-drive: stuck uploads settled as the reconciliation timer would (processed again, or rejected
  once their link expired; services/reconciliation.py), stuck exports' jobs queued again, poisoned
  messages moved back to their queue;
- KEK rotation: a new KEK version (locally; Key Vault rotates its own key) and every patient's data
  key rewrapped under it (services/keys.py).

Every mutating use case takes `dry_run` and then only reports what it would do. Reports hold ids,
statuses and ages only, never patient data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared_code.domain.common import parse_instant
from shared_code.ports import BLOB_TRIGGER, EXPORT_JOBS_QUEUE, LOOKUPS, PATIENTS, QUEUES, UPLOADS, NotFound, PoisonedMessage, PoisonQueues
from shared_code.services import keys, pending_work, reconciliation
from shared_code.services.deletion import upload_blob_name

log = logging.getLogger("skinvault.operations")

STUCK_EXPORT_STATES = ("queued", "running")


@dataclass(frozen=True)
class StuckItem:
    kind: str  # upload | export
    patient_id: str
    id: str
    status: str
    age_minutes: int
    detail: str = ""  # e.g. "blob present", "no blob yet"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "patientId": self.patient_id,
            "id": self.id,
            "status": self.status,
            "ageMinutes": self.age_minutes,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class StuckReport:
    uploads: list[StuckItem]
    exports: list[StuckItem]
    poisoned: list[PoisonedMessage]

    def as_dict(self) -> dict[str, Any]:
        return {
            "uploads": [i.as_dict() for i in self.uploads],
            "exports": [i.as_dict() for i in self.exports],
            "poisoned": [_poisoned_view(m) for m in self.poisoned],
        }


@dataclass
class RedriveReport:
    dry_run: bool
    done: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"dryRun": self.dry_run, "done": self.done, "skipped": self.skipped}


def _poisoned_view(m: PoisonedMessage) -> dict[str, Any]:
    body = m.body or {}
    # the message's ids only (messages hold ids by design; anything else is left out)
    names = ("kind", "clinicId", "caseId", "shareId", "imageId", "exportId", "patientId", "FunctionId", "ContainerName", "BlobName")
    ids = {k: v for k, v in body.items() if k in names and isinstance(v, str)}
    return {
        "queue": m.queue,
        "messageId": m.message_id,
        "insertedOn": m.inserted_on.isoformat() if m.inserted_on else None,
        "dequeueCount": m.dequeue_count,
        "decodable": m.body is not None,
        **ids,
    }


# ----------------------------------------------------------------------------- listing
def _items(services: Any, kind: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    continuation: str | None = None
    while True:
        page = services.store.query(LOOKUPS, pending_work.PARTITION, where={"kind": kind}, limit=200, continuation=continuation)
        items.extend(page.items)
        continuation = page.continuation
        if not continuation:
            return items


def _read(services: Any, patient_id: str, doc_id: str) -> dict[str, Any] | None:
    try:
        doc: dict[str, Any] = services.store.read(PATIENTS, patient_id, doc_id)
    except NotFound:
        return None
    return doc


def _age(now: datetime, when: str | None) -> int | None:
    if not when:
        return None
    try:
        return int((now - parse_instant(when)).total_seconds() // 60)
    except ValueError:
        return None


def _has_upload_blob(services: Any, patient_id: str, image_id: str) -> bool:
    try:
        services.blobs.info(UPLOADS, upload_blob_name(patient_id, image_id))
    except NotFound:
        return False
    return True


def stuck_uploads(services: Any, older_than: timedelta) -> list[tuple[StuckItem, dict[str, Any]]]:
    """Photos still `pending` longer than `older_than` after their upload session opened."""
    now, found = services.clock.now(), []
    for image, item in reconciliation.pending_uploads(services, older_than):
        age = _age(now, image.get("uploadedAt")) or 0
        blob = "blob present" if _has_upload_blob(services, image["patientId"], image["id"]) else "no blob yet"
        found.append((StuckItem("upload", image["patientId"], image["id"], "pending", age, blob), item))
    return found


def stuck_exports(services: Any, older_than: timedelta) -> list[tuple[StuckItem, dict[str, Any]]]:
    """Exports still queued or running longer than `older_than` after they were asked for."""
    now, found = services.clock.now(), []
    for item in _items(services, pending_work.EXPORT):
        export = _read(services, item["patientId"], item["targetId"])
        if export is None or export.get("type") != "export" or export.get("status") not in STUCK_EXPORT_STATES:
            continue
        age = _age(now, export.get("createdAt"))
        if age is None or age < older_than.total_seconds() / 60:
            continue
        found.append((StuckItem("export", export["patientId"], export["id"], export["status"], age), item))
    return found


def stuck(services: Any, older_than: timedelta, *, upload_queues: PoisonQueues | None = None, poison_limit: int = 32) -> StuckReport:
    """`upload_queues`: the uploads account's queues, where the blob trigger's poison queue is."""
    poisoned: list[PoisonedMessage] = []
    for queue in QUEUES:
        poisoned.extend(services.queue.poisoned(queue, poison_limit))
    if upload_queues is not None:
        poisoned.extend(upload_queues.poisoned(BLOB_TRIGGER, poison_limit))
    return StuckReport(
        uploads=[i for i, _ in stuck_uploads(services, older_than)],
        exports=[i for i, _ in stuck_exports(services, older_than)],
        poisoned=poisoned,
    )


# ----------------------------------------------------------------------------- re-drive
def redrive_uploads(services: Any, older_than: timedelta, *, dry_run: bool, upload_queues: PoisonQueues | None = None) -> RedriveReport:
    """Settle each stuck upload as a reconciliation run would: processed again when its blob is there;
    rejected when it never arrived and its link has expired; left alone while the phone may still send it.
    A settled upload's message in the blob trigger's poison queue (`upload_queues`) is deleted."""
    report, now = RedriveReport(dry_run), services.clock.now()
    for entry, item in stuck_uploads(services, older_than):
        due = isinstance(item.get("dueAt"), int) and item["dueAt"] <= int(now.timestamp())
        if entry.detail != "blob present" and not due:
            report.skipped.append({**entry.as_dict(), "reason": "the upload link has not expired: the phone may still send it"})
            continue
        if dry_run:
            report.done.append({**entry.as_dict(), "outcome": "would process again" if entry.detail == "blob present" else "would reject as expired"})
            continue
        outcome = reconciliation.settle(services, item)
        image = _read(services, entry.patient_id, entry.id) or {}
        done = {**entry.as_dict(), "outcome": outcome, "status": image.get("status", "gone")}
        if upload_queues is not None and done["status"] != "pending":
            name = upload_blob_name(entry.patient_id, entry.id)
            done["poisonDropped"] = upload_queues.drop_poisoned(BLOB_TRIGGER, lambda body, name=name: body.get("BlobName") == name)  # type: ignore[misc]
        report.done.append(done)
        log.info("manage: upload re-driven image_id=%s outcome=%s", entry.id, outcome)
    return report


def redrive_exports(services: Any, older_than: timedelta, *, dry_run: bool) -> RedriveReport:
    """Queue the build job of each stuck export again (the job is idempotent)."""
    report = RedriveReport(dry_run)
    for entry, _ in stuck_exports(services, older_than):
        if not dry_run:
            services.queue.send(EXPORT_JOBS_QUEUE, {"exportId": entry.id, "patientId": entry.patient_id})
            log.info("manage: export job queued again export_id=%s", entry.id)
        report.done.append({**entry.as_dict(), "outcome": "would queue the job again" if dry_run else "job queued again"})
    return report


def redrive_poisoned(services: Any, queues: tuple[str, ...] = QUEUES, *, dry_run: bool, limit: int = 32) -> RedriveReport:
    """Move poisoned messages back to their queue (after the cause is fixed) so they are tried again."""
    report = RedriveReport(dry_run)
    for queue in queues:
        if dry_run:
            for m in services.queue.poisoned(queue, limit):
                (report.done if m.body is not None else report.skipped).append(
                    {**_poisoned_view(m), "outcome": "would move back" if m.body is not None else "not JSON: left in the poison queue"}
                )
            continue
        for m in services.queue.redrive(queue, limit):
            report.done.append({**_poisoned_view(m), "outcome": "moved back"})
            log.info("manage: poisoned message moved back queue=%s message_id=%s", queue, m.message_id)
    return report


# ----------------------------------------------------------------------------- keys
@dataclass(frozen=True)
class KekRotationReport:
    dry_run: bool
    rotated: bool  # a new KEK version was made (locally; Key Vault rotates its own key)
    previous_kid: str
    current_kid: str
    rewrapped: int
    unchanged: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "dryRun": self.dry_run,
            "rotated": self.rotated,
            "previousKid": self.previous_kid,
            "currentKid": self.current_kid,
            "rewrapped": self.rewrapped,
            "unchanged": self.unchanged,
        }


def rotate_kek(services: Any, *, new_version: bool, dry_run: bool) -> KekRotationReport:
    """Optionally make a new KEK version (local KEK only), then rewrap every patient's data key
    under the current version (keys.rotate_patient_keys). Dry run: counts the data keys that
    would be rewrapped (all of them when a new version would be made)."""
    previous = services.kek.current().get_kid()
    can_rotate = callable(getattr(services.kek, "rotate", None))
    if new_version and not can_rotate:
        raise ValueError("this KEK provider cannot make a new version here: rotate the key in Key Vault, then run this without --new-version")
    if dry_run:
        stale = fresh = 0
        for patient_id in services.data_keys.patient_ids():
            kid = services.data_keys.kek_kid_of(patient_id)
            if kid is None:
                continue
            if new_version or kid != previous:
                stale += 1
            else:
                fresh += 1
        return KekRotationReport(True, False, previous, previous, stale, fresh)
    if new_version:
        services.kek.rotate()
        log.info("manage: new KEK version made")
    result = keys.rotate_patient_keys(services)
    return KekRotationReport(False, new_version, previous, services.kek.current().get_kid(), result.rewrapped, result.unchanged)
