"""SQLite implementation of MetadataStore: the embedded default for local runs and tests.

One table per ContainerSpec: (partition, id, etag, body JSON). Queries filter and order on
`json_extract(body, '$.field')`; expression indexes on the hot paths (images of a folder by
capture time, documents of a type by creation time...) keep a page of a 10,000-document partition
in the low milliseconds. Paging is keyset-based (value, id), so concurrent inserts never cause
duplicates or gaps.

SQL text is only ever assembled from checked identifiers (container and field names matching
_store_common's patterns, hence the `noqa: S608` marks); every value is a bound parameter.

Thread-safe: a file database lends each call a pooled connection (WAL mode, busy timeout), so
readers run in parallel and writers queue on SQLite's lock; ':memory:' gets one shared connection
behind a lock (separate connections would see separate databases).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from shared_code.adapters._store_common import (
    ETAG,
    Scalar,
    check_container,
    check_field,
    check_id,
    check_partition,
    check_where,
    decode_token,
    encode_token,
    prepare_document,
    prepare_query,
)
from shared_code.ports import (
    CONTAINERS,
    Conflict,
    ContainerSpec,
    DependencyUnavailable,
    Document,
    NotFound,
    Page,
    PreconditionFailed,
)
from shared_code.repositories import DECLARED_INDEXES

DEPENDENCY = "sqlite"

# Expression indexes created on every table: (partition, json fields..., id), one per query shape
# a repository declares (shared_code/repositories). A query whose equality filters are a prefix of
# one of these and whose order_by is the next field is served straight from the index (no sort, no
# scan). Pass `indexes=` to change them.
DEFAULT_INDEXES: tuple[tuple[str, ...], ...] = tuple(spec.fields for spec in DECLARED_INDEXES)

_BUSY_TIMEOUT_MS = 5000
_MEMORY = ":memory:"
_MAX_IDLE = 8

# Positions inside the ordering, as stored in continuation tokens.
_BLOCK_ID = "i"  # order by id only
_BLOCK_VALUE = "v"  # rows whose order field has a value
_BLOCK_NULL = "n"  # rows whose order field is missing or null (first ascending, last descending)


def _jx(field: str) -> str:
    """The SQL expression for a top-level field (field names are checked identifiers)."""
    return f"json_extract(body, '$.{check_field(field)}')"


def _jt(field: str) -> str:
    return f"json_type(body, '$.{check_field(field)}')"


def _json_types(value: Scalar) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("true",) if value else ("false",)
    if isinstance(value, int | float):
        return ("integer", "real")
    return ("text",)


class SqliteMetadataStore:
    def __init__(self, path: str, *, indexes: Sequence[Sequence[str]] = DEFAULT_INDEXES, containers: Sequence[ContainerSpec] = CONTAINERS) -> None:
        self._path = path
        self._memory = path == _MEMORY
        self._indexes = tuple(tuple(check_field(f) for f in ix) for ix in indexes)
        self._containers = tuple(containers)
        self._shared: sqlite3.Connection | None = None
        self._shared_lock = threading.RLock()
        # File databases: a pool of idle connections; each call borrows one, so concurrent requests
        # (one thread each) run in parallel and connections do not pile up with short-lived threads.
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()

    # ------------------------------------------------------------ connections
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            # deleted documents are overwritten with zeros, not left in free pages for a file copy to find
            conn.execute("PRAGMA secure_delete = ON")
            if not self._memory:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        """A connection used by this call only, with sqlite errors mapped to DependencyUnavailable."""
        try:
            if self._memory:
                with self._shared_lock:
                    if self._shared is None:
                        self._shared = self._open()
                    yield self._shared
                return
            with self._idle_lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._open()
            try:
                yield conn
            except sqlite3.Error:
                conn.close()  # a connection that failed is not handed out again
                raise
            except BaseException:
                self._release(conn)
                raise
            self._release(conn)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise DependencyUnavailable(DEPENDENCY, _describe(exc)) from exc

    def _release(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.close()
            return
        with self._idle_lock:
            if len(self._idle) < _MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction: read-check-write steps cannot interleave."""
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._idle_lock:
            conns, self._idle = self._idle, []
        with self._shared_lock:
            if self._shared is not None:
                conns.append(self._shared)
                self._shared = None
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    # ------------------------------------------------------------ schema
    def ensure_containers(self) -> None:
        for container in self._containers:
            check_container(container)
        with self._write() as conn:
            for container in self._containers:
                table = _table(container)
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} ("
                    "partition TEXT NOT NULL, id TEXT NOT NULL, etag TEXT NOT NULL, body TEXT NOT NULL, "
                    "PRIMARY KEY (partition, id))"
                )
                for fields in self._indexes:
                    name = f'"ix_{container.name}_{"_".join(fields)}"'
                    columns = ", ".join(["partition", *(_jx(f) for f in fields), "id"])
                    conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")

    def ping(self) -> None:
        with self._conn() as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    # ------------------------------------------------------------ documents
    def create(self, container: ContainerSpec, doc: Document) -> Document:
        partition, doc_id, body = prepare_document(container, doc)
        etag = _new_etag()
        try:
            with self._conn() as conn:
                sql = f"INSERT INTO {_table(container)} (partition, id, etag, body) VALUES (?, ?, ?, ?)"  # noqa: S608
                conn.execute(sql, (partition, doc_id, etag, _dump(body)))
        except sqlite3.IntegrityError:
            raise Conflict(f"{container.name}/{doc_id} already exists") from None
        return {**body, ETAG: etag}

    def create_under(self, container: ContainerSpec, doc: Document, *, parent_id: str) -> Document:
        partition, doc_id, body = prepare_document(container, doc)
        check_id(parent_id, "parent_id")
        etag = _new_etag()
        table = _table(container)
        try:
            with self._write() as conn:
                if conn.execute(f"SELECT 1 FROM {table} WHERE partition = ? AND id = ?", (partition, parent_id)).fetchone() is None:  # noqa: S608
                    raise NotFound(f"{container.name}/{parent_id}")
                conn.execute(f"INSERT INTO {table} (partition, id, etag, body) VALUES (?, ?, ?, ?)", (partition, doc_id, etag, _dump(body)))  # noqa: S608
        except sqlite3.IntegrityError:
            raise Conflict(f"{container.name}/{doc_id} already exists") from None
        return {**body, ETAG: etag}

    def read(self, container: ContainerSpec, partition: str, id: str) -> Document:
        check_partition(partition)
        check_id(id)
        with self._conn() as conn:
            row = conn.execute(f"SELECT etag, body FROM {_table(container)} WHERE partition = ? AND id = ?", (partition, id)).fetchone()  # noqa: S608
        if row is None:
            raise NotFound(f"{container.name}/{id}")
        return _load(row[0], row[1])

    def replace(self, container: ContainerSpec, doc: Document, *, if_match: str | None) -> Document:
        partition, doc_id, body = prepare_document(container, doc)
        etag = _new_etag()
        table = _table(container)
        with self._write() as conn:
            current = conn.execute(f"SELECT etag FROM {table} WHERE partition = ? AND id = ?", (partition, doc_id)).fetchone()  # noqa: S608
            if current is None:
                raise NotFound(f"{container.name}/{doc_id}")
            if if_match is not None and current[0] != if_match:
                raise PreconditionFailed(f"{container.name}/{doc_id} changed since it was read")
            conn.execute(f"UPDATE {table} SET etag = ?, body = ? WHERE partition = ? AND id = ?", (etag, _dump(body), partition, doc_id))  # noqa: S608
        return {**body, ETAG: etag}

    def upsert(self, container: ContainerSpec, doc: Document) -> Document:
        partition, doc_id, body = prepare_document(container, doc)
        etag = _new_etag()
        with self._conn() as conn:
            sql = f"INSERT INTO {_table(container)} (partition, id, etag, body) VALUES (?, ?, ?, ?) ON CONFLICT (partition, id) DO UPDATE SET etag = excluded.etag, body = excluded.body"  # noqa: S608, E501
            conn.execute(sql, (partition, doc_id, etag, _dump(body)))
        return {**body, ETAG: etag}

    def delete(self, container: ContainerSpec, partition: str, id: str, *, if_match: str | None = None) -> None:
        check_partition(partition)
        check_id(id)
        table = _table(container)
        with self._write() as conn:
            current = conn.execute(f"SELECT etag FROM {table} WHERE partition = ? AND id = ?", (partition, id)).fetchone()  # noqa: S608
            if current is None:
                raise NotFound(f"{container.name}/{id}")
            if if_match is not None and current[0] != if_match:
                raise PreconditionFailed(f"{container.name}/{id} changed since it was read")
            conn.execute(f"DELETE FROM {table} WHERE partition = ? AND id = ?", (partition, id))  # noqa: S608

    def delete_partition(self, container: ContainerSpec, partition: str) -> int:
        """Account erasure: the rows go, their pages are zeroed (secure_delete) and the write-ahead
        log, which still holds earlier copies of those pages, is checkpointed and truncated."""
        check_partition(partition)
        with self._conn() as conn:
            deleted = conn.execute(f"DELETE FROM {_table(container)} WHERE partition = ?", (partition,)).rowcount  # noqa: S608
            if not self._memory:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return deleted

    # ------------------------------------------------------------ queries
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
        after = _position(decode_token(continuation, fingerprint)) if continuation is not None else None

        if order_by is None:
            blocks = [_BLOCK_ID]
        else:
            blocks = [_BLOCK_VALUE, _BLOCK_NULL] if descending else [_BLOCK_NULL, _BLOCK_VALUE]
        if after is not None:
            if after["b"] not in blocks:
                raise ValueError("malformed continuation token")
            blocks = blocks[blocks.index(after["b"]) :]

        rows: list[tuple[str, str, str, str, Any]] = []  # (block, id, etag, body, order key)
        with self._conn() as conn:
            for block in blocks:
                bound = after if after is not None and after["b"] == block else None
                sql, params = self._block_sql(container, partition, filters, order_by, bool(descending), block, bound, limit + 1 - len(rows))
                rows.extend((block, *row) for row in conn.execute(sql, params).fetchall())
                if len(rows) > limit:
                    break

        more = len(rows) > limit
        rows = rows[:limit]
        items = [_load(etag, body) for _block, _id, etag, body, _key in rows]
        token = None
        if more:
            block, last_id, _etag, _body, key = rows[-1]
            token = encode_token(fingerprint, {"b": block, "k": key, "i": last_id})
        return Page(items=items, continuation=token)

    def explain_query(
        self,
        container: ContainerSpec,
        partition: str,
        *,
        where: Mapping[str, Any] | None = None,
        order_by: str | None = None,
        descending: bool = False,
    ) -> list[str]:
        """SQLite's plan for the first page of a query (for tests and benchmarks of the indexes)."""
        filters = check_where(where)
        block = _BLOCK_ID if order_by in (None, "id") else _BLOCK_VALUE
        sql, params = self._block_sql(container, partition, filters, None if order_by == "id" else order_by, descending, block, None, 51)
        with self._conn() as conn:
            return [row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()]

    def _block_sql(
        self,
        container: ContainerSpec,
        partition: str,
        filters: Mapping[str, Scalar],
        order_by: str | None,
        descending: bool,
        block: str,
        bound: Mapping[str, Any] | None,
        limit: int,
    ) -> tuple[str, list[Any]]:
        conditions = ["partition = ?"]
        params: list[Any] = [partition]
        for name, value in filters.items():
            if name == "id":
                if not isinstance(value, str):
                    conditions.append("0")
                else:
                    conditions.append("id = ?")
                    params.append(value)
            elif value is None:
                conditions.append(f"{_jx(name)} IS NULL")
            else:
                types = _json_types(value)
                conditions.append(f"{_jx(name)} = ? AND {_jt(name)} IN ({', '.join('?' for _ in types)})")
                params.extend([value, *types])
        direction = "DESC" if descending else "ASC"
        compare = "<" if descending else ">"
        if block == _BLOCK_VALUE:
            assert order_by is not None
            key = _jx(order_by)
            conditions.append(f"{key} IS NOT NULL")
            if bound is not None:
                # (key, id) after (k, i), spelt so that the index can seek to k rather than scan to it.
                conditions.append(f"{key} {compare}= ? AND ({key} {compare} ? OR id {compare} ?)")
                params.extend([bound["k"], bound["k"], bound["i"]])
            order = f"{key} {direction}, id {direction}"
        else:
            key = "NULL"
            if block == _BLOCK_NULL:
                assert order_by is not None
                conditions.append(f"{_jx(order_by)} IS NULL")
            if bound is not None:
                conditions.append(f"id {compare} ?")
                params.append(bound["i"])
            order = f"id {direction}"
        sql = f"SELECT id, etag, body, {key} FROM {_table(container)} WHERE {' AND '.join(conditions)} ORDER BY {order} LIMIT ?"  # noqa: S608
        params.append(limit)
        return sql, params


# ---------------------------------------------------------------- helpers
def _table(container: ContainerSpec) -> str:
    check_container(container)
    return f'"{container.name}"'


def _new_etag() -> str:
    return uuid.uuid4().hex


def _dump(body: Document) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _load(etag: str, body: str) -> Document:
    doc: Document = json.loads(body)
    doc[ETAG] = etag
    return doc


def _position(raw: Mapping[str, Any]) -> dict[str, Any]:
    block, key, last_id = raw.get("b"), raw.get("k"), raw.get("i")
    if block not in (_BLOCK_ID, _BLOCK_VALUE, _BLOCK_NULL) or not isinstance(last_id, str):
        raise ValueError("malformed continuation token")
    if block == _BLOCK_VALUE and (key is None or not isinstance(key, str | int | float) or isinstance(key, bool)):
        raise ValueError("malformed continuation token")
    return {"b": block, "k": key, "i": last_id}


def _describe(exc: sqlite3.Error) -> str:
    """A short reason without SQL text or values (no patient data in logs)."""
    name = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
    message = str(exc).split(":")[0][:80]
    return f"{name}: {message}"
