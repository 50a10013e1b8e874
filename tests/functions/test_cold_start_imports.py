"""Cold start: a worker that indexes the app must not load the export libraries (pydicom, fpdf2).

They load on the first export only. The check runs in a fresh interpreter, as a new worker would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
import function_app
function_app.app.get_functions()
print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))
"""
EXPORT_ONLY_LIBRARIES = {"pydicom", "fpdf"}


def _modules_after(code: str, tmp_path: Path) -> set[str]:
    settings = json.loads((ROOT / "local.settings.example.json").read_text())["Values"]
    env = {**os.environ, **settings}
    env.update(
        {"SQLITE_PATH": str(tmp_path / "db.sqlite"), "KEK_PEM_PATH": str(tmp_path / "kek.pem"), "DEV_ISSUER_KEY_PATH": str(tmp_path / "dev.pem")}
    )
    env.pop("WEBSITE_INSTANCE_ID", None)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_indexing_the_app_does_not_import_the_export_libraries(tmp_path: Path) -> None:
    loaded = _modules_after(PROBE, tmp_path)
    assert "function_app" in loaded and "azure" in loaded
    assert loaded & EXPORT_ONLY_LIBRARIES == set()
