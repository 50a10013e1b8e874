"""Counters in fixed windows, for limits answered with 429 and Retry-After.

A counter is one small document, reused window after window. Counters about a patient live in the
patient's own partition, so erasing the account erases them; counters about a client address live
in the lookups container under a hash of the address (never the address itself).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared_code.domain.errors import RateLimited
from shared_code.ports import LOOKUPS, PATIENTS, ContainerSpec, MetadataStore, NotFound
from shared_code.services import concurrency


@dataclass(frozen=True)
class Counter:
    container: ContainerSpec
    partition: str
    doc_id: str

    def fresh(self) -> dict[str, Any]:
        return {"id": self.doc_id, self.container.partition_key: self.partition, "type": "rate-limit", "window": "", "count": 0}


def for_patient(patient_id: str, name: str) -> Counter:
    """A counter about one patient: erased with the account."""
    return Counter(PATIENTS, patient_id, f"rate-{name}")


def for_address(address: str, name: str) -> Counter:
    key = f"rate:{name}:addr:" + hashlib.sha256(address.encode()).hexdigest()[:32]
    return Counter(LOOKUPS, key, key)


def _window(now: datetime, seconds: int) -> tuple[str, int]:
    """(the window's name, seconds until it ends)."""
    start = int(now.timestamp()) // seconds * seconds
    return str(start), max(1, start + seconds - int(now.timestamp()))


def check(store: MetadataStore, counter: Counter, *, limit: int, window_seconds: int, now: datetime, detail: str) -> None:
    """RateLimited (429, Retry-After: the end of the window) when the counter is at its limit."""
    window, retry_after = _window(now, window_seconds)
    try:
        doc = store.read(counter.container, counter.partition, counter.doc_id)
    except NotFound:
        return
    if doc.get("window") == window and doc.get("count", 0) >= limit:
        raise RateLimited(detail, retry_after_seconds=retry_after)


def add(store: MetadataStore, counter: Counter, *, window_seconds: int, now: datetime) -> None:
    window, _ = _window(now, window_seconds)

    def bump(doc: dict[str, Any]) -> None:
        if doc.get("window") != window:
            doc.update(window=window, count=0)
        doc["count"] = doc.get("count", 0) + 1

    concurrency.modify(store, counter.container, (counter.partition, counter.doc_id), bump, create=counter.fresh, attempts=20)


def take(store: MetadataStore, counter: Counter, *, limit: int, window_seconds: int, now: datetime, detail: str) -> None:
    """Check and count in one write: of concurrent callers, at most `limit` per window get through."""
    window, retry_after = _window(now, window_seconds)

    def bump(doc: dict[str, Any]) -> None:
        if doc.get("window") != window:
            doc.update(window=window, count=0)
        if doc.get("count", 0) >= limit:
            raise RateLimited(detail, retry_after_seconds=retry_after)
        doc["count"] = doc.get("count", 0) + 1

    concurrency.modify(store, counter.container, (counter.partition, counter.doc_id), bump, create=counter.fresh, attempts=20)
