"""Operate the key hierarchy (ARCHITECTURE section 3) with the app's own settings.

    python -m scripts.rewrap_keys migrate [--ops-per-second 5]   # blobs wrapped by the KEK -> patient data keys
    python -m scripts.rewrap_keys rotate                         # after a new KEK version: rewrap patient data keys

Settings come from the environment, as in the Function App (in Azure: run it where the app's
identity and network reach Key Vault, Storage and Cosmos DB); locally from local.settings.json
(``--settings``), whose values never override the environment. Both commands are idempotent and
safe while the app runs. They print counts only: never ids, keys or patient data.

migrate costs one Key Vault unwrap per blob (paced by --ops-per-second; the vault allows about 500
per 10 s for the whole service); rotate costs one per patient. With blob versioning on, migrate
leaves the previous version of each blob KEK-wrapped until the storage lifecycle policy deletes it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _load_local_settings(path: Path) -> None:
    if not path.exists():
        return
    for key, value in json.loads(path.read_text()).get("Values", {}).items():
        os.environ.setdefault(key, str(value))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.rewrap_keys", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("migrate", "rotate"))
    parser.add_argument("--settings", default=str(ROOT / "local.settings.json"), help="local.settings.json to read (local runs)")
    parser.add_argument("--ops-per-second", type=float, default=None, help="migrate: Key Vault unwraps per second at most")
    args = parser.parse_args(argv)
    _load_local_settings(Path(args.settings))

    from shared_code import bootstrap
    from shared_code.services import keys

    services = bootstrap.services()
    if args.command == "rotate":
        report = keys.rotate_patient_keys(services)
        print(f"patient data keys rewrapped: {report.rewrapped}, already under the current KEK: {report.unchanged}")
        return 0
    pace = keys.DEFAULT_MIGRATION_OPS_PER_SECOND if args.ops_per_second is None else args.ops_per_second
    migrated = keys.migrate_blobs(services, ops_per_second=pace)
    print(f"blobs rewrapped under patient data keys: {migrated.rewrapped}, unchanged: {migrated.unchanged}, failed: {migrated.failed}")
    return 1 if migrated.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
