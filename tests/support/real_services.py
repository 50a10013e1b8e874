"""The app's real services over Azurite + SQLite + the local PEM KEK, for service-level tests,
with the store wrapped for fault injection and a clock the test can move forward."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azure.storage.blob import BlobServiceClient

from shared_code.bootstrap import Services, build
from shared_code.config import Settings
from tests.conftest import EXAMPLE_SETTINGS
from tests.support.azurite import Azurite
from tests.support.faults import FaultyStore


class ShiftedClock:
    """Real time (upload links and Azurite live in it) plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


def azurite_services(azurite: Azurite, tmp_path: Path, **settings: str) -> Services:
    """The app's services as bootstrap builds them, over Azurite, a SQLite file and a PEM KEK in tmp_path."""
    env = dict(
        EXAMPLE_SETTINGS,
        STORAGE=azurite.connection_string,
        UPLOADS_STORAGE=azurite.connection_string,
        SQLITE_PATH=str(tmp_path / "db.sqlite"),
        KEK_PEM_PATH=str(tmp_path / "kek.pem"),
        EMAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
        DEV_ISSUER_KEY_PATH=str(tmp_path / "dev.pem"),
    )
    env.update(settings)
    services = build(Settings.from_env(env))
    services.store.ensure_containers()
    services.blobs.ensure_containers()
    return services


def real_services(azurite: Azurite, tmp_path: Path, **settings: str) -> Services:
    real = azurite_services(azurite, tmp_path, **settings)
    return dataclasses.replace(real, store=FaultyStore(real.store), clock=ShiftedClock())


def blob_names(azurite: Azurite, container: str, prefix: str) -> list[str]:
    """What is really in a container (a plain client, not the adapter under test)."""
    account = BlobServiceClient.from_connection_string(azurite.connection_string)
    return sorted(b.name for b in account.get_container_client(container).list_blobs(name_starts_with=prefix))
