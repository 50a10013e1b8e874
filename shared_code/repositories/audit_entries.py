"""AuditRepository: the audit trail's writes (append only) and reads, and the index they need.

Entries live in AUDIT, partitioned by patient; nothing here updates or deletes one.
"""

from __future__ import annotations

from shared_code.domain.audit_entry import DOC_TYPE, AuditEntry
from shared_code.ports import AUDIT, IndexSpec, MetadataStore
from shared_code.services import paging

INDEXES = (IndexSpec(("type", "at"), "a patient's audit trail, newest first"),)


class AuditRepository:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def append(self, entry: AuditEntry) -> AuditEntry:
        return AuditEntry.from_doc(self._store.create(AUDIT, entry.to_doc()))

    def page(self, patient_id: str, limit: int, token: str | None) -> tuple[list[AuditEntry], str | None]:
        """One page of the patient's trail, newest first (a malformed token is a 400)."""
        page = paging.fetch(self._store, AUDIT, patient_id, where={"type": DOC_TYPE}, order_by="at", limit=limit, token=token)
        return [AuditEntry.from_doc(d) for d in page.items], page.continuation
