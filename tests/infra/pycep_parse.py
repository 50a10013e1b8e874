"""Parse .bicep files with pycep and print one JSON object: {path: {"ok": bool, "json"|"error": ...}}.

Runs inside the checkov virtual environment (.venv-checkov), where pycep-parser is installed
as a dependency of checkov; tests/infra/test_bicep.py and scripts/check_infra.sh call it with
that venv's python. Usage: python pycep_parse.py FILE_OR_DIR...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pycep import BicepParser


def main(argv: list[str]) -> int:
    files: list[Path] = []
    for arg in argv:
        path = Path(arg)
        files.extend(sorted(path.rglob("*.bicep")) if path.is_dir() else [path])
    parser = BicepParser()
    result: dict[str, dict[str, object]] = {}
    for file in files:
        try:
            result[str(file)] = {"ok": True, "json": parser.parse(file_path=file)}
        except Exception as exc:  # noqa: BLE001 - any parse failure is reported, not raised
            result[str(file)] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    json.dump(result, sys.stdout, default=str)
    return 0 if files and all(entry["ok"] for entry in result.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
