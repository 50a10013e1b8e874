"""ClinicRepository over the real SQLite store: add, get, and the admin list."""

from __future__ import annotations

from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.domain.clinic import Clinic
from shared_code.ports import CLINICS, LOOKUPS
from shared_code.repositories.clinics import ClinicRepository


def test_clinics_are_added_listed_and_read_back(tmp_path):
    store = SqliteMetadataStore(str(tmp_path / "store.sqlite"))
    store.ensure_containers()
    repo = ClinicRepository(store)
    leeds = repo.add(Clinic(id="cln_1", name="Leeds", ods_code="RR8", notification_email="a@nhs.example", share_code="AAAA-BBBB"))
    repo.add(Clinic(id="cln_2", name="York", ods_code="RCB", notification_email="b@nhs.example", share_code="CCCC-DDDD"))
    assert repo.get("cln_1") == leeds and leeds.etag
    assert sorted(c.name for c in repo.all()) == ["Leeds", "York"]
    assert repo.get("cln_3") is None
    store.create(CLINICS, {"id": "m1", "clinicId": "cln_9", "type": "member"})
    assert repo.get("cln_9") is None  # not a clinic document
    # an index entry whose clinic is gone is skipped, not an error
    store.upsert(LOOKUPS, {"id": "clinic:cln_gone", "key": "__index__", "type": "clinic-index", "clinicId": "cln_gone"})
    assert len(repo.all()) == 2
