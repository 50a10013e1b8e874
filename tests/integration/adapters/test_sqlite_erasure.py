"""SQLite erasure leaves nothing on disk: secure_delete is on, and erasing a partition zeroes its
pages and truncates the write-ahead log, so no copy of the file holds the deleted documents."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from shared_code.adapters import sqlite_store
from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.ports import CLINICS, PATIENTS

MARKER = "Philippa-Quarrington-9434765919-unique-marker"


@pytest.fixture(autouse=True)
def library_default_off(monkeypatch):
    """Debian builds SQLite with secure_delete on by default; others do not. Start every connection
    the store opens with it off, so the tests prove the store itself turns it on."""
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete = OFF")
        return conn

    monkeypatch.setattr(sqlite_store.sqlite3, "connect", connect)


def _bytes_on_disk(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


def test_every_connection_has_secure_delete_on(tmp_path):
    store = SqliteMetadataStore(str(tmp_path / "s.db"))
    store.ensure_containers()
    with store._conn() as conn:  # noqa: SLF001 - the pragma is per connection: ask one the store hands out
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    store.close()


def test_an_erased_partition_leaves_no_trace_in_the_database_files(tmp_path):
    db = tmp_path / "s.db"
    store = SqliteMetadataStore(str(db))
    store.ensure_containers()
    for n in range(200):  # enough to spread over many pages
        store.create(PATIENTS, {"id": f"doc-{n}", "patientId": "pt-gone", "type": "image", "notes": f"{MARKER} {n} " + "x" * 300})
    store.create(PATIENTS, {"id": "doc-kept", "patientId": "pt-kept", "type": "image", "notes": "another patient's note"})
    store.create(CLINICS, {"id": "case-1", "clinicId": "cln-1", "type": "case", "patientId": "pt-kept"})
    assert MARKER.encode() in _bytes_on_disk(db)

    assert store.delete_partition(PATIENTS, "pt-gone") == 200
    on_disk = _bytes_on_disk(db)
    assert MARKER.encode() not in on_disk
    assert b"another patient's note" in on_disk  # the rest is untouched
    assert store.read(PATIENTS, "pt-kept", "doc-kept")["notes"] == "another patient's note"
    store.close()
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_without_secure_delete_the_same_erasure_would_leave_the_data(tmp_path):
    """The control: what the pragma prevents is real (SQLite keeps deleted rows in free pages)."""
    db = tmp_path / "plain.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA secure_delete = OFF")
        conn.execute("CREATE TABLE t (body TEXT)")
        conn.executemany("INSERT INTO t VALUES (?)", [(f"{MARKER} {n} " + "x" * 300,) for n in range(200)])
        conn.commit()
        conn.execute("DELETE FROM t")
        conn.commit()
    assert MARKER.encode() in db.read_bytes()
