"""ShareRepository over the real SQLite store: its queries, and the indexes it declares are built."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.domain.share import Share, ShareConsent
from shared_code.ports import PATIENTS
from shared_code.repositories import DECLARED_INDEXES, shares
from shared_code.repositories.shares import ShareRepository

CONSENT = ShareConsent(text_version="v1", text_hash="h", accepted_at="2026-05-01T09:00:00Z", accepted_by="p_a")


def a_share(share_id: str, clinic_id: str, granted_at: str) -> Share:
    return Share(
        id=share_id,
        patient_id="p_a",
        clinic_id=clinic_id,
        all_folders=True,
        folder_ids=None,
        purposes=("direct-care",),
        expires_at="2027-01-01T00:00:00Z",
        granted_at=granted_at,
        consent=CONSENT,
    )


@pytest.fixture
def store(tmp_path):
    made = SqliteMetadataStore(str(tmp_path / "store.sqlite"))
    made.ensure_containers()
    return made


def test_shares_are_found_by_patient_and_clinic_and_paged_newest_first(store):
    repo = ShareRepository(store)
    repo.add(a_share("shr_1", "cln_a", "2026-05-01T09:00:00Z"))
    repo.add(a_share("shr_2", "cln_b", "2026-05-02T09:00:00Z"))
    repo.add(a_share("shr_3", "cln_a", "2026-05-03T09:00:00Z"))
    store.create(PATIENTS, {"id": "fld_1", "patientId": "p_a", "type": "folder", "createdAt": "2026-05-01T00:00:00Z"})

    assert [s.id for s in repo.with_clinic("p_a", "cln_a")] == ["shr_1", "shr_3"]
    first, token = repo.page("p_a", 2, None)
    assert [s.id for s in first] == ["shr_3", "shr_2"] and token
    rest, _ = repo.page("p_a", 2, token)
    assert [s.id for s in rest] == ["shr_1"]
    assert [s.id for s in repo.all("p_a")] == ["shr_1", "shr_2", "shr_3"]
    assert repo.get("p_a", "fld_1") is None and repo.get("p_a", "nope") is None
    assert repo.get("p_a", "shr_2") == Share.from_doc(store.read(PATIENTS, "p_a", "shr_2"))


def test_modify_stores_the_change_and_returns_the_current_share_when_it_changes_nothing(store):
    repo = ShareRepository(store)
    share = repo.add(a_share("shr_1", "cln_a", "2026-05-01T09:00:00Z"))
    ended = repo.modify(share, lambda s: s.ended("2026-05-02T00:00:00Z", "revoked"))
    assert ended is not None and ended.revoked_at == "2026-05-02T00:00:00Z"
    # a stale copy: the change sees the stored share (already ended) and leaves it
    unchanged = repo.modify(share, lambda s: None if s.revoked_at else s.ended("2026-05-03T00:00:00Z", "replaced"))
    assert unchanged is not None and unchanged.end_reason == "revoked"
    assert store.read(PATIENTS, "p_a", "shr_1")["endReason"] == "revoked"
    audited = repo.modify(unchanged, lambda s: replace(s, expiry_audited=True))
    assert audited is not None and store.read(PATIENTS, "p_a", "shr_1")["expiryAudited"] is True


def test_the_sqlite_store_builds_exactly_the_declared_indexes(tmp_path):
    path = tmp_path / "store.sqlite"
    SqliteMetadataStore(str(path)).ensure_containers()
    with sqlite3.connect(path) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_patients_%'")}
    assert names == {f"ix_patients_{'_'.join(spec.fields)}" for spec in DECLARED_INDEXES}
    assert set(shares.INDEXES) <= set(DECLARED_INDEXES)
    assert len({spec.fields for spec in DECLARED_INDEXES}) == len(DECLARED_INDEXES)


def test_the_share_queries_are_served_by_the_declared_indexes(store):
    plan = " ".join(store.explain_query(PATIENTS, "p_a", where={"type": "share", "clinicId": "cln_a"}, order_by="grantedAt"))
    assert "ix_patients_type_clinicId_grantedAt" in plan and "TEMP B-TREE" not in plan
    plan = " ".join(store.explain_query(PATIENTS, "p_a", where={"type": "share"}, order_by="grantedAt", descending=True))
    assert "ix_patients_type_grantedAt" in plan and "TEMP B-TREE" not in plan
