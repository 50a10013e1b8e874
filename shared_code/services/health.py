"""Health: each dependency's state, checked the way the app uses it.

The metadata store must take a write (a tiny upsert to one health document: a read-only database
or a full disk still answers reads), blob storage must answer, and so must the queues. Unhealthy
(503) while any of them fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared_code.domain.common import iso
from shared_code.ports import LOOKUPS, Dependencies

log = logging.getLogger("skinvault.health")

HEALTH_DOC_ID = "health"


def _store_takes_a_write(services: Dependencies) -> None:
    services.store.upsert(LOOKUPS, {"id": HEALTH_DOC_ID, "key": HEALTH_DOC_ID, "checkedAt": iso(services.clock.now())})


def _queues_answer(services: Dependencies) -> None:
    ping = getattr(services.queue, "ping", None)
    if ping is not None:
        ping()


def check(services: Dependencies) -> tuple[bool, dict[str, str]]:
    probes: tuple[tuple[str, Callable[[], None]], ...] = (
        ("blobStorage", services.blobs.ping),
        ("metadataStore", lambda: _store_takes_a_write(services)),
        ("queues", lambda: _queues_answer(services)),
    )
    states: dict[str, str] = {}
    for name, probe in probes:
        try:
            probe()
            states[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - a probe must never crash health
            log.warning("health probe failed dependency=%s error=%s", name, type(exc).__name__)
            states[name] = "unavailable"
    return all(v == "ok" for v in states.values()), states
