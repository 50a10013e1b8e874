"""AuditRepository over the real SQLite store: append only, read newest first a page at a time,
from the index it declares."""

from __future__ import annotations

from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.domain.audit_entry import AuditEntry
from shared_code.ports import AUDIT
from shared_code.repositories.audit_entries import AuditRepository


def entry(n: int, patient_id: str = "p_a") -> AuditEntry:
    return AuditEntry(
        id=f"aud_{n}",
        patient_id=patient_id,
        at=f"2026-05-0{n}T09:00:00Z",
        actor_kind="patient",
        actor_id=patient_id,
        action="share-granted",
        clinic_id="cln_a",
        target_type="share",
        target_id=f"shr_{n}",
    )


def test_entries_are_appended_and_read_newest_first_per_patient(tmp_path):
    store = SqliteMetadataStore(str(tmp_path / "store.sqlite"))
    store.ensure_containers()
    repo = AuditRepository(store)
    for n in (1, 2, 3):
        repo.append(entry(n))
    repo.append(entry(4, patient_id="p_b"))
    first, token = repo.page("p_a", 2, None)
    assert [e.id for e in first] == ["aud_3", "aud_2"] and token
    rest, end = repo.page("p_a", 2, token)
    assert [e.id for e in rest] == ["aud_1"] and end is None
    assert first[0] == AuditEntry.from_doc(store.read(AUDIT, "p_a", "aud_3"))
    plan = " ".join(store.explain_query(AUDIT, "p_a", where={"type": "audit"}, order_by="at", descending=True))
    assert "ix_audit_type_at" in plan and "TEMP B-TREE" not in plan
