"""A MetadataStore wrapper that counts what each request costs at the store port (issue 15).

Documents read = one per point read + every document a query returns; Cosmos DB charges request
units in proportion to these. Writes are counted apart. Wraps any store (fake, SQLite, Cosmos).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared_code.ports import ContainerSpec, Document, MetadataStore, Page


class CountingStore:
    def __init__(self, inner: MetadataStore) -> None:
        self.inner = inner
        self.reset()

    def reset(self) -> None:
        self.documents_read = 0
        self.point_reads = 0
        self.queries = 0
        self.writes = 0

    def read(self, container: ContainerSpec, partition: str, id: str) -> Document:
        self.point_reads += 1
        self.documents_read += 1
        return self.inner.read(container, partition, id)

    def query(self, container: ContainerSpec, partition: str, **kw: Any) -> Page:
        self.queries += 1
        page = self.inner.query(container, partition, **kw)
        self.documents_read += len(page.items)
        return page

    def create(self, container: ContainerSpec, doc: Document) -> Document:
        self.writes += 1
        return self.inner.create(container, doc)

    def replace(self, container: ContainerSpec, doc: Document, *, if_match: str | None) -> Document:
        self.writes += 1
        return self.inner.replace(container, doc, if_match=if_match)

    def upsert(self, container: ContainerSpec, doc: Document) -> Document:
        self.writes += 1
        return self.inner.upsert(container, doc)

    def delete(self, container: ContainerSpec, partition: str, id: str, *, if_match: str | None = None) -> None:
        self.writes += 1
        self.inner.delete(container, partition, id, if_match=if_match)

    def __getattr__(self, name: str) -> Any:  # ensure_containers, ping, delete_partition, close...
        return getattr(self.inner, name)

    def snapshot(self) -> Mapping[str, int]:
        return {"documentsRead": self.documents_read, "pointReads": self.point_reads, "queries": self.queries, "writes": self.writes}
