"""Tracing decorators at the port boundary: one span per store, blob, queue, Key Vault and email call.

bootstrap wraps the real adapters (and tests wrap theirs) so no adapter needs editing. Spans
carry ids only (container names, our document and blob ids, kids, message ids), never a document,
a blob's bytes, an email address or a key. The queue wrapper also adds the current W3C trace
context to every message (`traceparent`), so the queue trigger continues the sender's trace.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry.trace import SpanKind

from shared_code import telemetry
from shared_code.ports import BlobStore, ContainerSpec, EmailMessage, KeyEncryptionKey, MessageQueue, MetadataStore


class _Passthrough:
    """Anything not traced goes straight to the wrapped adapter."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @property
    def inner(self) -> Any:
        return self._inner


# ---------------------------------------------------------------- metadata store
class TracedStore(_Passthrough):
    _inner: MetadataStore

    def _span(self, op: str, container: ContainerSpec, id: object = None) -> Any:
        return telemetry.span(
            f"store.{op}",
            {"db.operation.name": op, "db.collection.name": container.name, "skinvault.id": telemetry.safe_id(id)},
            kind=SpanKind.CLIENT,
        )

    def create(self, container: ContainerSpec, doc: dict[str, Any]) -> dict[str, Any]:
        with self._span("create", container, doc.get("id")):
            return self._inner.create(container, doc)

    def read(self, container: ContainerSpec, partition: str, id: str) -> dict[str, Any]:
        with self._span("read", container, id):
            return self._inner.read(container, partition, id)

    def replace(self, container: ContainerSpec, doc: dict[str, Any], *, if_match: str | None) -> dict[str, Any]:
        with self._span("replace", container, doc.get("id")):
            return self._inner.replace(container, doc, if_match=if_match)

    def upsert(self, container: ContainerSpec, doc: dict[str, Any]) -> dict[str, Any]:
        with self._span("upsert", container, doc.get("id")):
            return self._inner.upsert(container, doc)

    def delete(self, container: ContainerSpec, partition: str, id: str, *, if_match: str | None = None) -> None:
        with self._span("delete", container, id):
            self._inner.delete(container, partition, id, if_match=if_match)

    def query(self, container: ContainerSpec, partition: str, **kwargs: Any) -> Any:
        with self._span("query", container) as sp:
            page = self._inner.query(container, partition, **kwargs)
            sp.set_attribute("skinvault.items", len(page.items))
            return page

    def delete_partition(self, container: ContainerSpec, partition: str) -> int:
        with self._span("delete_partition", container):
            return self._inner.delete_partition(container, partition)


# ---------------------------------------------------------------- blobs
class TracedBlobs(_Passthrough):
    _inner: BlobStore

    def _span(self, op: str, container: str, name: object = None) -> Any:
        return telemetry.span(
            f"blob.{op}", {"skinvault.container": container, "skinvault.blob": telemetry.safe_blob_name(name)}, kind=SpanKind.CLIENT
        )

    def put_encrypted(self, container: str, name: str, data: Any, *, metadata: Mapping[str, str] | None = None) -> Any:
        with self._span("put_encrypted", container, name):
            return self._inner.put_encrypted(container, name, data, metadata=metadata)

    def read_decrypted(self, container: str, name: str, *, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        with self._span("read_decrypted", container, name):  # opening (key unwrap); chunks stream afterwards
            return self._inner.read_decrypted(container, name, offset=offset, length=length)

    def info(self, container: str, name: str) -> Any:
        with self._span("info", container, name):
            return self._inner.info(container, name)

    def delete(self, container: str, name: str) -> None:
        with self._span("delete", container, name):
            self._inner.delete(container, name)

    def delete_prefix(self, container: str, prefix: str) -> int:
        with self._span("delete_prefix", container, prefix):
            return self._inner.delete_prefix(container, prefix)

    def upload_url(self, container: str, name: str, expires_at: Any) -> str:
        with self._span("upload_url", container, name):  # the URL (a SAS) is never recorded
            return self._inner.upload_url(container, name, expires_at)

    def rewrap_content_key(self, container: str, name: str) -> bool:
        with self._span("rewrap_content_key", container, name):
            return self._inner.rewrap_content_key(container, name)


# ---------------------------------------------------------------- queue
class TracedQueue(_Passthrough):
    def send(self, queue: str, message: Mapping[str, Any]) -> None:
        with telemetry.span(
            "queue.send", {"messaging.destination.name": queue, "skinvault.kind": telemetry.safe_id(message.get("kind"))}, kind=SpanKind.PRODUCER
        ):
            self._inner.send(queue, telemetry.with_trace_context(message))


# ---------------------------------------------------------------- email
class TracedEmail(_Passthrough):
    def send(self, message: EmailMessage) -> None:
        with telemetry.span("email.send", {"skinvault.message_id": telemetry.safe_id(message.message_id)}, kind=SpanKind.CLIENT):
            self._inner.send(message)


# ---------------------------------------------------------------- KEK (Key Vault in Azure)
class _TracedKek:
    """One KEK version as azure-storage-blob sees it (wrap_key/unwrap_key/get_kid/get_key_wrap_algorithm)."""

    def __init__(self, inner: KeyEncryptionKey) -> None:
        self._inner = inner

    def wrap_key(self, key: bytes) -> bytes:
        with telemetry.span("kek.wrap_key", {"skinvault.kid": self._inner.get_kid()}, kind=SpanKind.CLIENT):
            return self._inner.wrap_key(key)

    def unwrap_key(self, key: bytes, algorithm: str) -> bytes:
        with telemetry.span("kek.unwrap_key", {"skinvault.kid": self._inner.get_kid(), "skinvault.algorithm": algorithm}, kind=SpanKind.CLIENT):
            return self._inner.unwrap_key(key, algorithm)

    def get_kid(self) -> str:
        return self._inner.get_kid()

    def get_key_wrap_algorithm(self) -> str:
        return self._inner.get_key_wrap_algorithm()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class TracedKekProvider(_Passthrough):
    """The KEK provider whose keys trace every wrap/unwrap (the adapters count the Key Vault operations)."""

    def current(self) -> KeyEncryptionKey:
        return _TracedKek(self._inner.current())

    def resolve(self, kid: str) -> KeyEncryptionKey:
        return _TracedKek(self._inner.resolve(kid))


def traced(*, store: Any = None, blobs: Any = None, queue: MessageQueue | None = None, kek: Any = None, email: Any = None) -> dict[str, Any]:
    """The given adapters wrapped (already-wrapped ones are kept as they are)."""
    kinds = {
        "store": (store, TracedStore),
        "blobs": (blobs, TracedBlobs),
        "queue": (queue, TracedQueue),
        "kek": (kek, TracedKekProvider),
        "email": (email, TracedEmail),
    }
    return {name: value if value is None or isinstance(value, wrapper) else wrapper(value) for name, (value, wrapper) in kinds.items()}
