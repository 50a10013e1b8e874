"""Durable work: what must be finished even when the request or trigger that started it did not.

A deletion or an erasure records its work item before its commit point, so once a patient has been
told "deleted", the rest (blobs, lookups, clinic cases) is retried until nothing is left. An upload
session and an export job record one too, due when they should long have ended, so a stuck one is
noticed; a read that finds a ready photo's rendition missing records one to have it made again.
The reconciliation timer takes the due items in order, a bounded number per run.

One small document per item in LOOKUPS under a single partition key (the list stays short: items
go when done). Ids are deterministic (kind, patient, target), so recording twice is harmless.
Items hold ids only, never patient data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared_code.ports import LOOKUPS, MetadataStore, NotFound

PARTITION = "pending-work"

DELETE_IMAGE = "delete-image"
DELETE_FOLDER = "delete-folder"
ERASE_ACCOUNT = "erase-account"
UPLOAD = "upload"
EXPORT = "export"
CHECK_RENDITIONS = "check-renditions"
KINDS = (DELETE_IMAGE, DELETE_FOLDER, ERASE_ACCOUNT, UPLOAD, EXPORT, CHECK_RENDITIONS)

MAX_BACKOFF = timedelta(hours=1)


def item_id(kind: str, patient_id: str, target_id: str) -> str:
    return f"{kind}:{patient_id}:{target_id}"


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def record(store: MetadataStore, kind: str, patient_id: str, target_id: str, due_at: datetime) -> dict[str, Any]:
    """Record (or re-record) one item, due at `due_at`. Raises when the store cannot write: the
    caller has not committed anything yet and can say so."""
    if kind not in KINDS:
        raise ValueError(f"unknown work kind {kind!r}")
    doc = {
        "id": item_id(kind, patient_id, target_id),
        "key": PARTITION,
        "kind": kind,
        "patientId": patient_id,
        "targetId": target_id,
        "dueAt": _seconds(due_at),
        "attempts": 0,
    }
    return store.upsert(LOOKUPS, doc)


def find(store: MetadataStore, kind: str, patient_id: str, target_id: str) -> dict[str, Any] | None:
    try:
        return store.read(LOOKUPS, PARTITION, item_id(kind, patient_id, target_id))
    except NotFound:
        return None


def erasure_pending(store: MetadataStore, patient_id: str) -> bool:
    """True from the moment an account's erasure is asked for until nothing of it is left: every
    request for the account answers 404 meanwhile."""
    return find(store, ERASE_ACCOUNT, patient_id, patient_id) is not None


def due(store: MetadataStore, now: datetime, limit: int) -> list[dict[str, Any]]:
    """The items due by `now`, earliest first, at most `limit`."""
    page = store.query(LOOKUPS, PARTITION, order_by="dueAt", limit=limit)
    cutoff = _seconds(now)
    return [item for item in page.items if isinstance(item.get("dueAt"), int) and item["dueAt"] <= cutoff]


def done(store: MetadataStore, item: dict[str, Any]) -> None:
    try:
        store.delete(LOOKUPS, PARTITION, item["id"])
    except NotFound:
        pass


def postpone(store: MetadataStore, item: dict[str, Any], now: datetime, base: timedelta) -> dict[str, Any]:
    """Try again later: base, 2 x base, 4 x base... at most an hour apart. Never given up."""
    attempts = int(item.get("attempts") or 0) + 1
    delay = min(base * (2 ** min(attempts - 1, 16)), MAX_BACKOFF)
    updated = {k: v for k, v in item.items() if k != "_etag"}
    updated.update(attempts=attempts, dueAt=_seconds(now + delay))
    return store.upsert(LOOKUPS, updated)
