"""Optimistic concurrency in one place: read, change, write with the ETag; on a lost race, re-read
and re-apply the change, so concurrent writers never lose each other's updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared_code.ports import Conflict, ContainerSpec, MetadataStore, NotFound, PreconditionFailed

Change = Callable[[dict], Any]


def modify(
    store: MetadataStore,
    container: ContainerSpec,
    doc_or_key: dict | tuple[str, str],
    change: Change,
    *,
    create: Callable[[], dict] | None = None,
    attempts: int = 5,
) -> dict | None:
    """Apply `change(doc)` (which mutates doc; returning False means "leave it as it is").

    `doc_or_key` is a document read earlier (used for the first attempt) or (partition, id).
    When the document is absent: with `create`, its result is changed and created; else None.
    Returns the stored document (or the unchanged one). Raises PreconditionFailed after
    `attempts` lost races, so the caller (or the API's 412) reports it rather than losing it.
    """
    if isinstance(doc_or_key, tuple):
        partition, doc_id = doc_or_key
        doc: dict | None = None
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
