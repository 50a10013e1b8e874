"""Counting KEK operations (Key Vault's rate limit is per vault): counts, one log line per window."""

from __future__ import annotations

import logging

from shared_code.adapters.kek_operations import KEK_OPERATIONS, KekOperationCounter
from shared_code.adapters.local_kek import LocalKekProvider

ALG = "RSA-OAEP-256"


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_counts_wraps_and_unwraps_and_logs_one_line_per_window(caplog):
    caplog.set_level(logging.INFO, logger="skinvault.kek")
    clock = Ticks()
    counter = KekOperationCounter(window_seconds=60, clock=clock)
    for _ in range(3):
        counter.record("unwrap")
    counter.record("wrap")
    assert caplog.records == []  # still inside the first window
    clock.now += 61
    counter.record("unwrap")
    counts = counter.counts()
    assert (counts.wrap, counts.unwrap, counts.total) == (1, 4, 5)
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("kek operations window_seconds=61 wrap=1 unwrap=4 per_10s=0.8")
    counter.reset()
    assert counter.counts().total == 0


def test_the_local_kek_counts_each_operation_that_reaches_the_key(tmp_path):
    kek = LocalKekProvider(tmp_path / "kek.pem")
    before = KEK_OPERATIONS.counts()
    wrapped = kek.current().wrap_key(b"k" * 32)
    assert kek.resolve(kek.current().get_kid()).unwrap_key(wrapped, ALG) == b"k" * 32
    after = KEK_OPERATIONS.counts()
    assert (after.wrap - before.wrap, after.unwrap - before.unwrap) == (1, 1)
