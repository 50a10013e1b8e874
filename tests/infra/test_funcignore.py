""".funcignore: the Function App package holds the app and nothing else (smaller package, faster cold
start, no local data, profiles, tests or tooling in Azure)."""

from __future__ import annotations

import fnmatch
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = {"function_app.py", "host.json", "requirements.txt", "functions", "shared_code"}
# Made on developer machines, never committed, and never to be deployed.
LOCAL_ONLY = {
    ".local",
    ".azure",
    "client-profiles",
    ".venv",
    ".venv-checkov",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "__pycache__",
    "node_modules",
    "local.settings.json",
    "patient",
    "web",
}


def _patterns() -> list[str]:
    lines = (ROOT / ".funcignore").read_text().splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    parts = Path(path).parts
    return any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in patterns)


def test_funcignore_leaves_out_everything_but_the_app() -> None:
    patterns = _patterns()
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    top_level = {Path(p).parts[0] for p in tracked}
    shipped = {name for name in top_level if not _ignored(name, patterns)}
    assert shipped == DEPLOYED & top_level
    assert DEPLOYED <= top_level


def test_funcignore_leaves_out_local_data_profiles_and_caches() -> None:
    patterns = _patterns()
    assert [name for name in sorted(LOCAL_ONLY) if not _ignored(name, patterns)] == []
    # caches inside the app folders too
    assert _ignored("shared_code/domain/__pycache__/rules.cpython-311.pyc", patterns)


def test_funcignore_keeps_every_file_of_the_app() -> None:
    patterns = _patterns()
    tracked = subprocess.run(["git", "ls-files", *sorted(DEPLOYED)], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert tracked and [p for p in tracked if _ignored(p, patterns)] == []
