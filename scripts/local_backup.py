"""Back up and restore the local stack's data, with its keys kept apart (`make backup` / `make restore`).

    python scripts/local_backup.py backup       [--out DIR]         data: SQLite + Azurite data folder
    python scripts/local_backup.py restore      DIR                 the stack must be stopped
    python scripts/local_backup.py backup-keys  --out KEYS_DIR      KEK (every version) + dev issuer key
    python scripts/local_backup.py restore-keys KEYS_DIR

The data backup never holds a key: photos and notes are encrypted under the key-encryption key
(KEK), so a backup that carried its own KEK would protect nothing. Keys go to a separate folder the
operator names (never inside a data backup), and restoring data checks that every KEK version the
data was written under is present first (the manifest records public-key fingerprints only).

- SQLite is copied with the online backup API (consistent while the host is running).
- The Azurite data folder is copied file by file; Azurite keeps its index in memory and writes it
  out lazily, so `backup` refuses while Azurite answers on its port (stop `make run` first, or
  pass --azurite-running-ok when only the SQLite copy matters).
- `restore` refuses while the host or Azurite answer, and moves what it replaces aside
  (<path>.before-restore-<stamp>) rather than deleting it.
Paths come from local.settings.json (SQLITE_PATH, KEK_PEM_PATH, DEV_ISSUER_KEY_PATH, STORAGE, PUBLIC_BASE_URL).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from cryptography.hazmat.primitives import serialization

ROOT = Path(__file__).resolve().parent.parent
DATA_KIND = "skinvault-local-data-backup"
KEYS_KIND = "skinvault-local-keys-backup"
MANIFEST = "manifest.json"
AZURITE_SKIP = {"azurite.log", "debug.log"}


class BackupError(Exception):
    """Refused or failed; the message says why (exit status 1)."""


@dataclass(frozen=True)
class LocalPaths:
    sqlite: Path
    azurite: Path
    kek: Path
    dev_issuer: Path
    ports: tuple[int, ...]  # host and Azurite ports that must be closed for a restore

    @classmethod
    def from_settings(cls, settings_file: Path, azurite_dir: Path | None = None, root: Path = ROOT) -> LocalPaths:
        values = json.loads(settings_file.read_text()).get("Values", {}) if settings_file.exists() else {}

        def path(name: str, default: str) -> Path:
            p = Path(values.get(name) or default)
            return p if p.is_absolute() else root / p

        ports: list[int] = []
        base = urlparse(values.get("PUBLIC_BASE_URL") or "http://127.0.0.1:7071")
        ports.append(base.port or 80)
        for part in str(values.get("STORAGE") or "").split(";"):
            if part.startswith(("BlobEndpoint=", "QueueEndpoint=")):
                ports.append(urlparse(part.split("=", 1)[1]).port or 80)
        if "UseDevelopmentStorage=true" in str(values.get("STORAGE") or ""):
            ports += [10000, 10001]
        return cls(
            sqlite=path("SQLITE_PATH", ".local/skinvault.db"),
            azurite=azurite_dir or root / ".local" / "azurite",
            kek=path("KEK_PEM_PATH", ".local/kek.pem"),
            dev_issuer=path("DEV_ISSUER_KEY_PATH", ".local/dev-issuer.pem"),
            ports=tuple(dict.fromkeys(ports)),
        )

    def kek_files(self) -> list[Path]:
        """The current KEK and every archived version (<pem>.<version>, written by rotation)."""
        if not self.kek.parent.exists():
            return []
        return sorted(
            p for p in self.kek.parent.glob(self.kek.name + "*") if p.is_file() and (p == self.kek or p.name.startswith(self.kek.name + "."))
        )


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def fingerprint(pem_file: Path) -> str:
    """SHA-256 of the public key (SubjectPublicKeyInfo, DER): identifies a key without holding it."""
    key = serialization.load_pem_private_key(pem_file.read_bytes(), password=None)
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _manifest(folder: Path) -> dict | None:
    for candidate in (folder, *folder.resolve().parents):
        file = candidate / MANIFEST
        if file.exists():
            try:
                return json.loads(file.read_text())
            except ValueError:
                return None
    return None


# ----------------------------------------------------------------------------- data
def backup(paths: LocalPaths, out: Path, *, azurite_running_ok: bool = False) -> Path:
    azurite_ports = paths.ports[1:]
    if not azurite_running_ok and any(_answers(p) for p in azurite_ports):
        raise BackupError("Azurite is running: stop `make run` first (its data folder is only consistent when it is stopped)")
    if not paths.sqlite.exists():
        raise BackupError(f"no SQLite database at {paths.sqlite}")
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} is not empty")
    for key_file in [*paths.kek_files(), paths.dev_issuer]:
        if _inside(key_file, out):
            raise BackupError("the backup folder would contain a key; choose a folder outside .local")
    data = out / "data"
    data.mkdir(parents=True)
    source = sqlite3.connect(f"file:{paths.sqlite}?mode=ro", uri=True)
    target = sqlite3.connect(data / "skinvault.db")
    try:
        with target:
            source.backup(target)  # the online backup API: a consistent copy while the host writes
    finally:
        source.close()
        target.close()
    if paths.azurite.is_dir():
        shutil.copytree(paths.azurite, data / "azurite", ignore=lambda _d, names: {n for n in names if n in AZURITE_SKIP})
    manifest = {
        "kind": DATA_KIND,
        "version": 1,
        "createdAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "sqlite": "data/skinvault.db",
        "azurite": "data/azurite" if paths.azurite.is_dir() else None,
        # public-key fingerprints only: restore checks these keys are in place; the keys are not here
        "kekFingerprints": sorted(fingerprint(p) for p in paths.kek_files()),
        "keysIncluded": False,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return out


def restore(paths: LocalPaths, backup_dir: Path) -> list[Path]:
    manifest = _manifest(backup_dir) if (backup_dir / MANIFEST).exists() else None
    if not manifest or manifest.get("kind") != DATA_KIND:
        raise BackupError(f"{backup_dir} is not a SkinVault data backup (no {MANIFEST} of kind {DATA_KIND})")
    running = [p for p in paths.ports if _answers(p)]
    if running:
        raise BackupError(f"the local stack is running (ports {', '.join(map(str, running))} answer): stop `make run` first")
    present = {fingerprint(p) for p in paths.kek_files()}
    missing = sorted(set(manifest.get("kekFingerprints", [])) - present)
    if missing:
        raise BackupError(
            f"the KEK this data was written under is not in place ({len(missing)} version(s) missing, e.g. {missing[0][:16]}...): restore the keys first (make restore-keys KEYS_FROM=...)"
        )
    stamp = _stamp()
    moved: list[Path] = []
    for current, saved in ((paths.sqlite, backup_dir / manifest["sqlite"]), (paths.azurite, backup_dir / (manifest.get("azurite") or "-"))):
        if not saved.exists():
            continue
        if current.exists():
            aside = current.with_name(f"{current.name}.before-restore-{stamp}")
            current.rename(aside)
            moved.append(aside)
        current.parent.mkdir(parents=True, exist_ok=True)
        if saved.is_dir():
            shutil.copytree(saved, current)
        else:
            shutil.copy2(saved, current)
    for wal in (paths.sqlite.with_name(paths.sqlite.name + "-wal"), paths.sqlite.with_name(paths.sqlite.name + "-shm")):
        if wal.exists():  # the old database's journal must not be replayed onto the restored one
            wal.rename(wal.with_name(f"{wal.name}.before-restore-{stamp}"))
    return moved


# ----------------------------------------------------------------------------- keys
def backup_keys(paths: LocalPaths, out: Path) -> Path:
    manifest = _manifest(out)
    if manifest and manifest.get("kind") == DATA_KIND:
        raise BackupError("keys never go inside a data backup: choose another folder")
    if _inside(out, paths.sqlite.parent) or _inside(out, paths.azurite):
        raise BackupError("keys never go beside the data they protect: choose a folder outside .local")
    files = paths.kek_files()
    if not files:
        raise BackupError(f"no KEK at {paths.kek}")
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    copied = [*files, *([paths.dev_issuer] if paths.dev_issuer.exists() else [])]
    for file in copied:
        shutil.copy2(file, out / file.name)
        os.chmod(out / file.name, 0o600)
    (out / MANIFEST).write_text(
        json.dumps(
            {
                "kind": KEYS_KIND,
                "version": 1,
                "createdAt": datetime.now(UTC).isoformat(timespec="seconds"),
                "kek": [f.name for f in files],
                "devIssuer": paths.dev_issuer.name if paths.dev_issuer.exists() else None,
            },
            indent=2,
        )
        + "\n"
    )
    return out


def restore_keys(paths: LocalPaths, keys_dir: Path, *, force: bool = False) -> list[Path]:
    manifest = json.loads((keys_dir / MANIFEST).read_text()) if (keys_dir / MANIFEST).exists() else {}
    if manifest.get("kind") != KEYS_KIND:
        raise BackupError(f"{keys_dir} is not a SkinVault keys backup")
    targets = [(keys_dir / name, paths.kek.parent / name) for name in manifest["kek"]]
    if manifest.get("devIssuer"):
        targets.append((keys_dir / manifest["devIssuer"], paths.dev_issuer))
    for saved, current in targets:
        if current.exists() and current.read_bytes() != saved.read_bytes() and not force:
            raise BackupError(f"{current} exists and differs from the backup: move it away (or --force) first; data written under it would be lost")
    written = []
    for saved, current in targets:
        current.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(saved, current)
        os.chmod(current, 0o600)
        written.append(current)
    return written


# ----------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Back up and restore the local stack (keys kept apart).")
    parser.add_argument("--settings", default=str(ROOT / "local.settings.json"))
    parser.add_argument("--azurite-dir", help="Azurite data folder (default .local/azurite)")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("backup")
    b.add_argument("--out", help="default .local/backups/<UTC stamp>")
    b.add_argument("--azurite-running-ok", action="store_true")
    r = sub.add_parser("restore")
    r.add_argument("backup_dir")
    bk = sub.add_parser("backup-keys")
    bk.add_argument("--out", required=True, help="a folder outside .local and outside any data backup")
    rk = sub.add_parser("restore-keys")
    rk.add_argument("keys_dir")
    rk.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    paths = LocalPaths.from_settings(Path(args.settings), Path(args.azurite_dir) if args.azurite_dir else None)
    try:
        if args.command == "backup":
            out = backup(paths, Path(args.out) if args.out else ROOT / ".local" / "backups" / _stamp(), azurite_running_ok=args.azurite_running_ok)
            print(f"backup: data -> {out} (no keys in it; back them up apart: make backup-keys KEYS_TO=<folder outside .local>)")
        elif args.command == "restore":
            moved = restore(paths, Path(args.backup_dir))
            print(f"restore: data from {args.backup_dir} is in place; replaced files moved aside: {', '.join(map(str, moved)) or 'none'}")
        elif args.command == "backup-keys":
            print(f"backup-keys: KEK and dev issuer key -> {backup_keys(paths, Path(args.out))} (keep it apart from the data backups)")
        else:
            print(f"restore-keys: {', '.join(map(str, restore_keys(paths, Path(args.keys_dir), force=args.force)))}")
    except BackupError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
