"""Counts key-encryption-key operations (Key Vault wrapKey/unwrapKey in Azure) for the ops team.

Key Vault allows about 500 RSA-3072 HSM operations per 10 s per vault; the key hierarchy keeps the
service far below that, and this counter shows it: the KEK adapters call `KEK_OPERATIONS.record`
for each operation that reaches the key (cache hits do not), which feeds a metric
(`skinvault.kek.operations`, exported with the traces), a log line per worker per minute that had
any (`kek operations window_seconds=.. wrap=.. unwrap=.. per_10s=..`), and `counts()` for the
manage CLI. Counts only: never a kid's material, a key or an id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from opentelemetry import metrics

log = logging.getLogger("skinvault.kek")
_METER = metrics.get_meter("skinvault")
_KEK_COUNTER = _METER.create_counter("skinvault.kek.operations", unit="{operation}", description="Key-encryption-key operations (Key Vault in Azure)")


@dataclass(frozen=True)
class KekCounts:
    wrap: int
    unwrap: int
    since: float  # time.monotonic() of the first operation counted

    @property
    def total(self) -> int:
        return self.wrap + self.unwrap


class KekOperationCounter:
    """Counts KEK operations in this process; logs one line per window that had any."""

    def __init__(self, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.window_seconds = window_seconds
        self._total = {"wrap": 0, "unwrap": 0}
        self._window = {"wrap": 0, "unwrap": 0}
        self._started = clock()
        self._window_started = self._started

    def record(self, op: str) -> None:
        _KEK_COUNTER.add(1, {"operation": op})
        line: tuple[float, int, int] | None = None
        with self._lock:
            self._total[op] += 1
            self._window[op] += 1
            now = self._clock()
            elapsed = now - self._window_started
            if elapsed >= self.window_seconds:
                line = (elapsed, self._window["wrap"], self._window["unwrap"])
                self._window = {"wrap": 0, "unwrap": 0}
                self._window_started = now
        if line is not None:
            elapsed, wrap, unwrap = line
            log.info(
                "kek operations window_seconds=%.0f wrap=%d unwrap=%d per_10s=%.1f", elapsed, wrap, unwrap, (wrap + unwrap) * 10 / max(elapsed, 1e-9)
            )

    def counts(self) -> KekCounts:
        with self._lock:
            return KekCounts(self._total["wrap"], self._total["unwrap"], self._started)

    def reset(self) -> None:
        with self._lock:
            self._total = {"wrap": 0, "unwrap": 0}
            self._window = {"wrap": 0, "unwrap": 0}
            self._started = self._window_started = self._clock()


KEK_OPERATIONS = KekOperationCounter()
