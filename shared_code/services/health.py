"""Health: each dependency's state; unhealthy when blob storage or the store cannot be reached."""

from __future__ import annotations

from typing import Any

from shared_code.ports import DependencyUnavailable


def check(services: Any) -> tuple[bool, dict[str, str]]:
    states: dict[str, str] = {}
    for name, probe in (("blobStorage", services.blobs.ping), ("metadataStore", services.store.ping)):
        try:
            probe()
            states[name] = "ok"
        except DependencyUnavailable:
            states[name] = "unavailable"
        except Exception:  # noqa: BLE001 - a probe must never crash health
            states[name] = "unavailable"
    return all(v == "ok" for v in states.values()), states
