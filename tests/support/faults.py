"""Fault injection at the port boundary around the REAL adapters (no mocks of our own code).

FaultyStore wraps a MetadataStore and, once armed, refuses every write as a store that went
read-only (disk full, a lost write lock) would: DependencyUnavailable, the adapters' own error.
Reads keep working, which is how a half-way failure looks from the service.
"""

from __future__ import annotations

from typing import Any

from shared_code.ports import DependencyUnavailable

_WRITES = frozenset({"create", "create_under", "replace", "upsert", "delete", "delete_partition"})


class FaultyStore:
    def __init__(self, real: Any) -> None:
        self.real = real
        self.writes_left: int | None = None  # None: healthy; n: n more writes succeed, then all fail
        self.refused = 0

    def fail_writes_after(self, n: int) -> None:
        self.writes_left = n

    def heal(self) -> None:
        self.writes_left = None

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)
        if name not in _WRITES:
            return attr

        def write(*args: Any, **kwargs: Any) -> Any:
            if self.writes_left is not None:
                if self.writes_left <= 0:
                    self.refused += 1
                    raise DependencyUnavailable("sqlite", "injected: the database is read-only")
                self.writes_left -= 1
            return attr(*args, **kwargs)

        return write
