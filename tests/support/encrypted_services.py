"""Services for functions-level tests over the real storage stack: Azurite blobs with client-side
encryption, SQLite metadata, a real KEK (PEM file or the local Key Vault stand-in) and per-patient
data keys. Queue, email and clock stay fakes (tests drive jobs and time themselves; the clock
starts at today's time).

    services = encrypted_services(tmp_path, azurite.connection_string, kek)
    worker_b = another_worker(services)     # same storage, cold key caches (a second Functions worker)
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared_code.adapters.blob_store import AzureBlobStore
from shared_code.adapters.patient_keys import PatientKeyRing
from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.bootstrap import Services
from tests.fakes.ports import FixedClock
from tests.support.functions_client import fake_services


def encrypted_services(tmp_path: Path, connection_string: str, kek: Any, *, data_keys: bool = True) -> Services:
    """data_keys=False: the store as it was before per-patient keys (everything wrapped by the KEK)."""
    store = SqliteMetadataStore(str(tmp_path / "skinvault.db"))
    store.ensure_containers()
    ring = PatientKeyRing(store, kek) if data_keys else None
    blobs = AzureBlobStore.from_connection_string(connection_string, kek, data_keys=ring)
    blobs.ensure_containers()
    # a clock at today's time: upload SAS links are signed against Azurite's real clock
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    return dataclasses.replace(fake_services(tmp_path), store=store, blobs=blobs, kek=kek, data_keys=ring, clock=clock)


def another_worker(services: Services, connection_string: str, kek: Any) -> Services:
    """The same storage seen from another worker: its own (cold) data-key cache and KEK provider."""
    ring = PatientKeyRing(services.store, kek)
    blobs = AzureBlobStore.from_connection_string(connection_string, kek, data_keys=ring)
    return dataclasses.replace(services, blobs=blobs, kek=kek, data_keys=ring)
