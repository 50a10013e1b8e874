"""`make backup` / `make restore` round trip on a real local stack (SQLite + Azurite + local KEK).

A patient's folder and photo survive: backup (data only) -> everything deleted -> restore refused
until the keys are back -> keys restored from their own backup -> data restored -> the same photo
decrypts to the same bytes. Keys are never in the data backup.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scripts.local_backup import BackupError, LocalPaths, backup, backup_keys, main, restore, restore_keys
from tests.e2e.helpers import Patient, ok, start_upload, upload_photo, wait_for
from tests.support.images import make_photo
from tests.support.stack import LocalStack


@pytest.fixture
def own_stack(tmp_path: Path):
    stack = LocalStack(tmp_path / "stack").start()
    yield stack
    stack.close()


def _paths(stack: LocalStack) -> LocalPaths:
    return LocalPaths.from_settings(stack.settings_path, stack.azurite.location)


def test_backup_and_restore_round_trip_keeps_photos_readable_and_keys_apart(own_stack: LocalStack, tmp_path: Path) -> None:
    stack = own_stack
    patient = Patient(stack, name="Restore Patient")
    image_id = upload_photo(patient.api, patient.folder["id"], make_photo(800, 600))
    assert wait_for(patient.api, image_id)["status"] == "ready"
    original = ok(patient.api.get(f"/api/images/{image_id}/content", params={"size": "original"}))
    folders_before = ok(patient.api.get("/api/folders"))
    paths = _paths(stack)
    assert paths.sqlite.exists() and paths.kek.exists() and paths.dev_issuer.exists()

    # Azurite's data folder is only consistent when it is stopped: backup refuses while it runs.
    with pytest.raises(BackupError, match="Azurite is running"):
        backup(paths, tmp_path / "refused")
    stack.stop_host()
    stack.azurite.stop()

    data_dir = tmp_path / "backups" / "data"
    keys_dir = tmp_path / "vault" / "keys"
    assert main(["--settings", str(stack.settings_path), "--azurite-dir", str(paths.azurite), "backup", "--out", str(data_dir)]) == 0
    assert main(["--settings", str(stack.settings_path), "backup-keys", "--out", str(keys_dir)]) == 0

    manifest = json.loads((data_dir / "manifest.json").read_text())
    assert manifest["keysIncluded"] is False and manifest["kekFingerprints"]
    every_file = [p for p in data_dir.rglob("*") if p.is_file()]
    assert not [p for p in every_file if p.suffix == ".pem" or b"PRIVATE KEY" in p.read_bytes()[:4096]]
    assert (data_dir / "data" / "skinvault.db").exists() and (data_dir / "data" / "azurite").is_dir()
    assert sorted(p.name for p in keys_dir.glob("*.pem*")) == sorted([paths.kek.name, paths.dev_issuer.name])
    with pytest.raises(BackupError, match="never go inside a data backup"):
        backup_keys(paths, data_dir / "keys")

    # Disaster: the database, the blobs and the keys are gone.
    paths.sqlite.unlink()
    shutil.rmtree(paths.azurite)
    paths.kek.unlink()
    paths.dev_issuer.unlink()

    with pytest.raises(BackupError, match="restore the keys first"):
        restore(paths, data_dir)
    restore_keys(paths, keys_dir)
    restore(paths, data_dir)

    stack.start()
    api = stack.client(stack.token(patient.sub, "patient", "Restore Patient"))
    assert ok(api.get("/api/folders")) == folders_before
    assert ok(api.get(f"/api/images/{image_id}"))["status"] == "ready"
    assert ok(api.get(f"/api/images/{image_id}/content", params={"size": "original"})) == original


def test_restore_refuses_while_the_stack_runs_and_keeps_what_it_replaces(own_stack: LocalStack, tmp_path: Path) -> None:
    stack = own_stack
    Patient(stack, name="Running Patient")
    paths = _paths(stack)
    data_dir = backup(paths, tmp_path / "data", azurite_running_ok=True)
    with pytest.raises(BackupError, match="the local stack is running"):
        restore(paths, data_dir)
    stack.stop_host()
    stack.azurite.stop()
    moved = restore(paths, data_dir)
    assert {p.name.split(".before-restore-")[0] for p in moved} == {paths.sqlite.name, paths.azurite.name}
    assert all(p.exists() for p in moved)


def test_restoring_keys_never_overwrites_a_different_key(own_stack: LocalStack, tmp_path: Path) -> None:
    patient = Patient(own_stack, name="Key Patient")
    start_upload(patient.api, patient.folder["id"], b"x" * 1024)  # hands out the KEK's public half: the KEK exists
    paths = _paths(own_stack)
    keys_dir = backup_keys(paths, tmp_path / "keys")
    (keys_dir / paths.kek.name).write_bytes((keys_dir / paths.kek.name).read_bytes().replace(b"A", b"B", 1))
    with pytest.raises(BackupError, match="differs from the backup"):
        restore_keys(paths, keys_dir)
