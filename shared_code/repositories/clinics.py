"""ClinicRepository: reading and writing clinic documents and the admin list's lookup entries.

A clinic is its own partition of CLINICS (id = partition). The admin list reads the clinic-index
entries in one LOOKUPS partition (a handful, filtered by type: no ordering, so no index is needed).
"""

from __future__ import annotations

from shared_code.domain.clinic import DOC_TYPE, Clinic
from shared_code.ports import CLINICS, LOOKUPS, IndexSpec, MetadataStore, NotFound

INDEXES: tuple[IndexSpec, ...] = ()

_INDEX_PARTITION = "__index__"


class ClinicRepository:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def get(self, clinic_id: str) -> Clinic | None:
        try:
            doc = self._store.read(CLINICS, clinic_id, clinic_id)
        except NotFound:
            return None
        return Clinic.from_doc(doc) if doc.get("type") == DOC_TYPE else None

    def add(self, clinic: Clinic) -> Clinic:
        created = Clinic.from_doc(self._store.create(CLINICS, clinic.to_doc()))
        self.index(created)
        return created

    def index(self, clinic: Clinic) -> None:
        """List the clinic for admins (idempotent)."""
        self._store.upsert(LOOKUPS, {"id": "clinic:" + clinic.id, "key": _INDEX_PARTITION, "type": "clinic-index", "clinicId": clinic.id})

    def all(self) -> list[Clinic]:
        entries = self._store.query(LOOKUPS, _INDEX_PARTITION, where={"type": "clinic-index"}, limit=1000).items
        found = (self.get(entry["clinicId"]) for entry in entries)
        return [clinic for clinic in found if clinic is not None]
