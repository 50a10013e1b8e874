"""FakeMetadataStore: an in-memory MetadataStore for fast unit tests.

Same semantics as the real adapters (the contract suite in tests/integration/adapters runs against
it too): `_etag` changes on every write, Conflict / NotFound / PreconditionFailed as documented,
type-strict `where` equality (None matches missing or null), ordering with missing/null values
first ascending and last descending and ties broken by id, keyset continuation tokens.

Documents are stored as JSON text, so callers can never alias what is stored.
Set `unavailable = True` to make every call raise DependencyUnavailable (to test 503 paths).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from shared_code.adapters._store_common import (
    ETAG,
    Scalar,
    check_container,
    check_id,
    check_partition,
    decode_token,
    encode_token,
    prepare_document,
    prepare_query,
)
from shared_code.ports import Conflict, ContainerSpec, DependencyUnavailable, Document, NotFound, Page, PreconditionFailed

_Key = tuple[Any, ...]


class FakeMetadataStore:
    def __init__(self) -> None:
        # container name -> (partition, id) -> (etag, JSON text)
        self._tables: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}
        self._lock = threading.RLock()
        self.unavailable = False
        self.ensure_calls = 0

    def _table(self, container: ContainerSpec) -> dict[tuple[str, str], tuple[str, str]]:
        if self.unavailable:
            raise DependencyUnavailable("fake-store", "made unavailable by the test")
        check_container(container)
        return self._tables.setdefault(container.name, {})

    # ------------------------------------------------------------ port
    def ensure_containers(self) -> None:
        if self.unavailable:
            raise DependencyUnavailable("fake-store", "made unavailable by the test")
        self.ensure_calls += 1

    def ping(self) -> None:
        if self.unavailable:
            raise DependencyUnavailable("fake-store", "made unavailable by the test")

    def create(self, container: ContainerSpec, doc: Document) -> Document:
        partition, doc_id, body = prepare_document(container, doc)
        with self._lock:
            table = self._table(container)
            if (partition, doc_id) in table:
                raise Conflict(f"{container.name}/{doc_id} already exists")
            return self._put(table, partition, doc_id, body)

    def create_under(self, container: ContainerSpec, doc: Document, *, parent_id: str) -> Document:
        partition, doc_id, body = prepare_document(container, doc)
        check_id(parent_id, "parent_id")
        with self._lock:
            table = self._table(container)
            if (partition, parent_id) not in table:
                raise NotFound(f"{container.name}/{parent_id}")
            if (partition, doc_id) in table:
                raise Conflict(f"{container.name}/{doc_id} already exists")
            return self._put(table, partition, doc_id, body)

    def read(self, container: ContainerSpec, partition: str, id: str) -> Document:
        check_partition(partition)
        check_id(id)
        with self._lock:
            stored = self._table(container).get((partition, id))
        if stored is None:
            raise NotFound(f"{container.name}/{id}")
        return _load(*stored)

    def replace(self, container: ContainerSpec, doc: Document, *, if_match: str | None) -> Document:
        partition, doc_id, body = prepare_document(container, doc)
        with self._lock:
            table = self._table(container)
            self._check(table, container, partition, doc_id, if_match)
            return self._put(table, partition, doc_id, body)

    def upsert(self, container: ContainerSpec, doc: Document) -> Document:
        partition, doc_id, body = prepare_document(container, doc)
        with self._lock:
            return self._put(self._table(container), partition, doc_id, body)

    def delete(self, container: ContainerSpec, partition: str, id: str, *, if_match: str | None = None) -> None:
        check_partition(partition)
        check_id(id)
        with self._lock:
            table = self._table(container)
            self._check(table, container, partition, id, if_match)
            del table[(partition, id)]

    def delete_partition(self, container: ContainerSpec, partition: str) -> int:
        check_partition(partition)
        with self._lock:
            table = self._table(container)
            keys = [key for key in table if key[0] == partition]
            for key in keys:
                del table[key]
        return len(keys)

    def query(
        self,
        container: ContainerSpec,
        partition: str,
        *,
        where: Mapping[str, Any] | None = None,
        order_by: str | None = None,
        descending: bool = False,
        limit: int = 50,
        continuation: str | None = None,
    ) -> Page:
        filters, order_by, fingerprint = prepare_query(container, partition, where, order_by, descending, limit)
        after = _position_key(decode_token(continuation, fingerprint), order_by) if continuation is not None else None

        with self._lock:
            stored = [(etag, text) for (part, _id), (etag, text) in self._table(container).items() if part == partition]
        docs = [_load(etag, text) for etag, text in stored]
        docs = [d for d in docs if all(_equals(d.get(name), value) for name, value in filters.items())]
        keyed = sorted(((_sort_key(d, order_by), d) for d in docs), key=lambda kd: kd[0], reverse=bool(descending))
        if after is not None:
            keyed = [(k, d) for k, d in keyed if (k < after if descending else k > after)]
        page = keyed[:limit]
        token = None
        if len(keyed) > limit:
            last_key, last = page[-1]
            block = "i" if order_by is None else ("n" if last_key[0] == 0 else "v")
            token = encode_token(fingerprint, {"b": block, "k": None if order_by is None else last.get(order_by), "i": last["id"]})
        return Page(items=[d for _k, d in page], continuation=token)

    # ------------------------------------------------------------ test helpers
    def documents(self, container: ContainerSpec) -> list[Document]:
        """Every document of a container, all partitions (for tests that search what is stored)."""
        with self._lock:
            stored = list(self._tables.get(container.name, {}).values())
        return [_load(etag, text) for etag, text in stored]

    def count(self, container: ContainerSpec, partition: str | None = None) -> int:
        with self._lock:
            table = self._tables.get(container.name, {})
            return sum(1 for part, _id in table if partition is None or part == partition)

    # ------------------------------------------------------------ internals
    @staticmethod
    def _put(table: dict[tuple[str, str], tuple[str, str]], partition: str, doc_id: str, body: Document) -> Document:
        etag = uuid.uuid4().hex
        table[(partition, doc_id)] = (etag, json.dumps(body, ensure_ascii=False))
        return {**body, ETAG: etag}

    @staticmethod
    def _check(table: dict[tuple[str, str], tuple[str, str]], container: ContainerSpec, partition: str, doc_id: str, if_match: str | None) -> None:
        stored = table.get((partition, doc_id))
        if stored is None:
            raise NotFound(f"{container.name}/{doc_id}")
        if if_match is not None and stored[0] != if_match:
            raise PreconditionFailed(f"{container.name}/{doc_id} changed since it was read")


def _load(etag: str, text: str) -> Document:
    doc: Document = json.loads(text)
    doc[ETAG] = etag
    return doc


def _equals(actual: Any, wanted: Scalar) -> bool:
    if wanted is None:
        return actual is None
    if isinstance(wanted, bool):
        return isinstance(actual, bool) and actual == wanted
    if isinstance(wanted, int | float):
        return isinstance(actual, int | float) and not isinstance(actual, bool) and actual == wanted
    return isinstance(actual, str) and actual == wanted


def _rank(value: Any) -> tuple[int, Any]:
    """Order of values as SQLite orders json_extract results: numbers (booleans as 0/1), then text."""
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (1, json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _sort_key(doc: Document, order_by: str | None) -> _Key:
    if order_by is None:
        return (doc["id"],)
    value = doc.get(order_by)
    if value is None:
        return (0, (), doc["id"])
    return (1, _rank(value), doc["id"])


def _position_key(raw: Mapping[str, Any], order_by: str | None) -> _Key:
    block, key, last_id = raw.get("b"), raw.get("k"), raw.get("i")
    if not isinstance(last_id, str):
        raise ValueError("malformed continuation token")
    if order_by is None and block == "i":
        return (last_id,)
    if order_by is not None and block == "n":
        return (0, (), last_id)
    if order_by is not None and block == "v" and key is not None:
        return (1, _rank(key), last_id)
    raise ValueError("malformed continuation token")
