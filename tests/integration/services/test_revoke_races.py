"""Concurrent revokes of one share against SQLite: every caller gets 200, exactly one audit record."""

from __future__ import annotations

import dataclasses

from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.ports import AUDIT
from tests.support.functions_client import FunctionsClient, fake_services
from tests.support.library_helpers import build_scene, ok, run_together


def test_concurrent_revokes_of_one_share_write_one_audit_record(tmp_path):
    store = SqliteMetadataStore(str(tmp_path / "revoke.db"))
    store.ensure_containers()
    client = FunctionsClient(dataclasses.replace(fake_services(tmp_path), store=store))
    try:
        for round_ in range(3):  # a race can go either way once: run it a few times
            scene = build_scene(client, patient_sub=f"patient-{round_}", clinic_name=f"Clinic {round_}")
            share = scene.share()
            url, token = f"/api/shares/{share['id']}", scene.patient.token
            replies = run_together(*[lambda url=url, token=token: client.delete(url, token=token) for _ in range(12)])
            assert [getattr(r, "status", r) for r in replies] == [200] * 12
            assert {ok(r)["state"] for r in replies} == {"revoked"}
            records = store.query(AUDIT, scene.patient_id, where={"type": "audit", "action": "share-revoked"}, limit=100).items
            assert len(records) == 1, records
            assert client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token).status == 404
    finally:
        store.close()
