"""/api/health tells the truth about the SQLite store: 503 while it cannot write (file system made
read-only, disk full), 200 again once it can, with no restart.

The database lives on a 1 MiB tmpfs mounted in a private mount namespace (`unshare -rm`), so the
test can remount it read-only or fill it without touching the machine's own file systems.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent(
    """
    import json, subprocess, sys
    from pathlib import Path
    from shared_code.adapters.sqlite_store import SqliteMetadataStore
    from tests.support.functions_client import FunctionsClient, fake_services

    mnt, mode = Path(sys.argv[1]), sys.argv[2]
    services = fake_services(Path(sys.argv[3]))
    services.store = SqliteMetadataStore(str(mnt / "skinvault.db"))
    services.store.ensure_containers()
    client = FunctionsClient(services)

    def health():
        r = client.get("/api/health")
        return [r.status, r.json()["dependencies"]["metadataStore"]]

    out = {"before": health()}
    if mode == "readonly":
        services.store.close()  # no file open for writing, or the kernel refuses the remount
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        out["during"] = health()
        subprocess.run(["mount", "-o", "remount,rw", str(mnt)], check=True)
    else:
        filler = mnt / "filler"
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\\0" * 65536)
                    f.flush()
            except OSError:
                pass
        out["during"] = [health() for _ in range(3)]
        filler.unlink()
    out["after"] = health()
    print("RESULT " + json.dumps(out))
    """
)


def _run(tmp_path: Path, mode: str) -> dict:
    if not shutil.which("unshare") or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs a private mount namespace (unshare -rm)")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    shell = f'mount -t tmpfs -o size=1m tmpfs "{mnt}" && exec "{sys.executable}" "{script}" "{mnt}" {mode} "{tmp_path}"'
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", shell],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


def test_health_is_503_while_the_sqlite_file_system_is_read_only(tmp_path):
    result = _run(tmp_path, "readonly")
    assert result["before"] == [200, "ok"]
    assert result["during"] == [503, "unavailable"]
    assert result["after"] == [200, "ok"]


def test_health_is_503_while_the_disk_is_full(tmp_path):
    result = _run(tmp_path, "full")
    assert result["before"] == [200, "ok"]
    assert all(during == [503, "unavailable"] for during in result["during"]), result
    assert result["after"] == [200, "ok"]
