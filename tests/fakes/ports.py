"""In-memory Fake* implementations of the ports, for unit and functions-layer tests."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared_code.ports import BlobInfo, DependencyUnavailable, EmailMessage


class FixedClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 11, 27, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class FakeBlobStore:
    """Keeps plaintext in memory (the real adapter encrypts); records what was stored where."""

    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], tuple[bytes, dict[str, str]]] = {}
        self.available = True
        self._n = 0
        self._lock = threading.Lock()

    def _check(self) -> None:
        if not self.available:
            raise DependencyUnavailable("blob storage", "fake outage")

    def ensure_containers(self) -> None:
        self._check()

    def put_encrypted(self, container: str, name: str, data: bytes | Iterable[bytes], *, metadata: Mapping[str, str] | None = None) -> BlobInfo:
        self._check()
        payload = data if isinstance(data, bytes | bytearray) else b"".join(data)
        with self._lock:
            self._n += 1
            self.blobs[(container, name)] = (bytes(payload), dict(metadata or {}))
        return BlobInfo(name=name, etag=f"etag-{self._n}", size=len(payload), metadata=dict(metadata or {}))

    def read_decrypted(self, container: str, name: str) -> Iterator[bytes]:
        from shared_code.ports import NotFound

        self._check()
        if (container, name) not in self.blobs:
            raise NotFound(name)
        data = self.blobs[(container, name)][0]
        for i in range(0, len(data), 1 << 20):
            yield data[i : i + (1 << 20)]

    def info(self, container: str, name: str) -> BlobInfo:
        from shared_code.ports import NotFound

        self._check()
        if (container, name) not in self.blobs:
            raise NotFound(name)
        data, meta = self.blobs[(container, name)]
        return BlobInfo(name=name, etag="etag", size=len(data), metadata=meta)

    def delete(self, container: str, name: str) -> None:
        self._check()
        self.blobs.pop((container, name), None)

    def delete_prefix(self, container: str, prefix: str) -> int:
        self._check()
        doomed = [k for k in self.blobs if k[0] == container and k[1].startswith(prefix)]
        for k in doomed:
            del self.blobs[k]
        return len(doomed)

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        self._check()
        for (c, n), (data, meta) in sorted(self.blobs.items()):
            if c == container and n.startswith(prefix):
                yield BlobInfo(name=n, etag="etag", size=len(data), metadata=meta)

    def list_page(self, container: str, prefix: str = "", *, continuation: str | None = None, limit: int = 500) -> tuple[list[BlobInfo], str | None]:
        items = [i for i in self.list(container, prefix) if continuation is None or i.name > continuation]
        more = len(items) > limit
        items = items[:limit]
        return items, (items[-1].name if more else None)

    def upload_url(self, container: str, name: str, expires_at: datetime) -> str:
        self._check()
        return f"https://fake.blob.local/{container}/{name}?se={expires_at.isoformat()}&sp=cw&sig=fake"

    def ping(self) -> None:
        self._check()


@dataclass
class FakeQueue:
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    available: bool = True

    def send(self, queue: str, message: Mapping[str, Any]) -> None:
        self.ping()
        self.messages.append((queue, dict(message)))

    def ping(self) -> None:
        if not self.available:
            raise DependencyUnavailable("queue", "fake outage")

    def take(self, queue: str) -> list[dict[str, Any]]:
        mine = [m for q, m in self.messages if q == queue]
        self.messages = [(q, m) for q, m in self.messages if q != queue]
        return mine


@dataclass
class FakeEmailSender:
    sent: list[EmailMessage] = field(default_factory=list)
    fail_next: int = 0

    def send(self, message: EmailMessage) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise DependencyUnavailable("email", "fake outage")
        if any(m.message_id == message.message_id for m in self.sent if message.message_id):
            return
        self.sent.append(message)


class FakeKek:
    """Stands in for the KEK provider where no encryption happens (fake blob store)."""

    def public_jwk(self) -> dict[str, Any]:
        return {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "fake:kek/1", "alg": "RSA-OAEP-256"}

    def current(self) -> Any:
        return self

    def get_kid(self) -> str:
        return "fake:kek/1"
