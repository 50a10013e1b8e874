"""Optimistic concurrency in one place: read, change, write with the ETag; on a lost race, re-read
and re-apply the change, so concurrent writers never lose each other's updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared_code.ports import Conflict, ContainerSpec, MetadataStore, NotFound, PreconditionFailed

Change = Callable[[dict[str, Any]], Any]


def modify(
    store: MetadataStore,
    container: ContainerSpec,
    doc_or_key: dict[str, Any] | tuple[str, str],
    change: Change,
    *,
    create: Callable[[], dict[str, Any]] | None = None,
    attempts: int = 5,
) -> dict[str, Any] | None:
    """Apply `change(doc)` (which mutates doc; returning False means "leave it as it is").

    `doc_or_key` is a document read earlier (used for the first attempt) or (partition, id).
    When the document is absent: with `create`, its result is changed and created; else None.
    Returns the stored document (or the unchanged one). Raises PreconditionFailed after
    `attempts` lost races, so the caller (or the API's 412) reports it rather than losing it.
    """
    if isinstance(doc_or_key, tuple):
        partition, doc_id = doc_or_key
        doc: dict[str, Any] | None = None
    else:
        doc = doc_or_key
        partition, doc_id = doc[container.partition_key], doc["id"]
    for _ in range(attempts):
        if doc is None:
            try:
                doc = store.read(container, partition, doc_id)
            except NotFound:
                if create is None:
                    return None
                fresh = create()
                if change(fresh) is False:
                    return None
                try:
                    return store.create(container, fresh)
                except Conflict:
                    continue
        if change(doc) is False:
            return doc
        try:
            return store.replace(container, doc, if_match=doc["_etag"])
        except (PreconditionFailed, NotFound):
            doc = None
    raise PreconditionFailed(f"{container.name}/{doc_id} changed concurrently")


# If-Match as the API received it (RFC 9110 section 13.1.1): None when absent, ("*",) for any
# current version, else the entity tags given, unquoted. `modify_if_match` applies it.
IfMatch = tuple[str, ...] | None
ANY_VERSION = "*"
# Enough attempts that a request without If-Match wins even against a burst of concurrent writers
# (each lost race means another writer succeeded).
UNCONDITIONAL_ATTEMPTS = 64


def bare_etag(etag: str) -> str:
    """An entity tag without its quotes (the stores' ETags may be quoted, as Cosmos DB's are, or not)."""
    return etag[1:-1] if len(etag) >= 2 and etag[0] == etag[-1] == '"' else etag


def modify_if_match(store: MetadataStore, container: ContainerSpec, doc: dict[str, Any], change: Change, if_match: IfMatch) -> dict[str, Any]:
    """Change a document the way an HTTP request asked: without If-Match (or with `*`) the change is
    re-applied on a lost race and never refused; with entity tags, it is made only if the current
    version is one of them (PreconditionFailed, so 412, otherwise)."""
    if if_match is None or ANY_VERSION in if_match:
        stored = modify(store, container, doc, change, attempts=UNCONDITIONAL_ATTEMPTS)
        if stored is None:
            raise NotFound(f"{container.name}/{doc['id']}")
        return stored
    if bare_etag(doc["_etag"]) not in if_match:
        raise PreconditionFailed(f"{container.name}/{doc['id']} is not at the version asked for")
    if change(doc) is False:
        return doc
    return store.replace(container, doc, if_match=doc["_etag"])
