"""The whole local stack for e2e tests: Azurite + the local host (SQLite, local KEK, .eml outbox).

stack = LocalStack(tmp_dir).start()
stack.base_url            # http://127.0.0.1:<port>
stack.token("sub", "patient", "Name")
stack.seed_demo()         # the same demo data `make run` seeds
stack.host_log()          # everything the host printed (tests scan it for patient data)
stack.close()
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.azurite import Azurite, free_port

ROOT = Path(__file__).resolve().parents[2]


class LocalStack:
    def __init__(self, workdir: Path, *, port: int | None = None, extra_settings: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.azurite = Azurite(self.workdir / "azurite")
        self.extra_settings = extra_settings or {}
        self._proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "host.log"
        self.outbox = self.workdir / "outbox"
        self.settings_path = self.workdir / "local.settings.json"
        self._seeded: dict[str, Any] | None = None

    def settings(self) -> dict[str, str]:
        values = json.loads((ROOT / "local.settings.example.json").read_text())["Values"]
        values.update(
            {
                "STORAGE": self.azurite.connection_string,
                "UPLOADS_STORAGE": self.azurite.connection_string,
                "AzureWebJobsStorage": self.azurite.connection_string,
                "PUBLIC_BASE_URL": self.base_url,
                "SQLITE_PATH": str(self.workdir / "skinvault.db"),
                "KEK_PEM_PATH": str(self.workdir / "kek.pem"),
                "EMAIL_OUTBOX_DIR": str(self.outbox),
                "DEV_ISSUER_KEY_PATH": str(self.workdir / "dev-issuer.pem"),
            }
        )
        values.update(self.extra_settings)
        return values

    def start(self) -> LocalStack:
        if not self.azurite.running:
            self.azurite.start()
        self.settings_path.write_text(json.dumps({"IsEncrypted": False, "Values": self.settings()}, indent=2))
        self.start_host()
        return self

    def start_host(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in self.settings()}
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "localhost.host", "--port", str(self.port), "--settings", str(self.settings_path)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"local host exited with {self._proc.returncode}:\n{self.host_log()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/api/health", timeout=2).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("local host did not answer within 60 s:\n" + self.host_log()[-3000:])

    def stop_host(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def close(self) -> None:
        self.stop_host()
        self.azurite.close()

    @property
    def host_pid(self) -> int:
        """The local host's process id (memory tests read /proc/<pid>/status)."""
        assert self._proc is not None and self._proc.poll() is None, "the local host is not running"
        return self._proc.pid

    def host_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # ------------------------------------------------------------------ helpers for tests
    def token(self, sub: str, role: str = "patient", name: str = "Test User", email: str | None = None) -> str:
        body = {"sub": sub, "name": name, "role": role}
        if email:
            body["email"] = email
        r = httpx.post(self.base_url + "/api/dev/token", json=body, timeout=10)
        r.raise_for_status()
        return r.json()["access_token"]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def seed_demo(self) -> dict[str, Any]:
        """Seed the demo clinic, users, photos and share (idempotent); returns their ids."""
        if self._seeded is None:
            from scripts.seed_demo import seed

            self._seeded = seed(self.base_url, quiet=True)
        return self._seeded

    def emails(self) -> list[str]:
        return [p.read_text(errors="replace") for p in sorted(self.outbox.glob("*.eml"))] if self.outbox.exists() else []
