"""Azurite (blob + queue + table emulator) for integration tests.

    azurite = Azurite().start()      # free ports, data in a temp dir
    azurite.connection_string        # for BlobServiceClient / QueueServiceClient .from_connection_string
    azurite.stop(); azurite.start()  # restart on the same ports and data (outage tests)
    azurite.close()                  # stop and delete the data

``azurite_fixture()`` makes a pytest fixture from it, e.g. in a conftest.py:

    azurite = azurite_fixture(scope="session")
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_BIN = REPO_ROOT / "tools" / "node" / "node_modules" / ".bin" / "azurite"

# Azurite's well-known development account (public, documented by Microsoft; not a secret).
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Azurite:
    def __init__(self, location: str | os.PathLike[str] | None = None, *, startup_timeout: float = 30.0) -> None:
        self._own_location = location is None
        self.location = Path(location) if location is not None else Path(tempfile.mkdtemp(prefix="azurite-"))
        self.blob_port = free_port()
        self.queue_port = free_port()
        self.table_port = free_port()
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path = self.location / "azurite.log"

    # ------------------------------------------------------------ endpoints
    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.blob_port}/{ACCOUNT_NAME}"

    @property
    def queue_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.queue_port}/{ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};QueueEndpoint={self.queue_endpoint};"
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Azurite:
        if self.running:
            return self
        if not AZURITE_BIN.exists():
            raise RuntimeError(f"Azurite is not installed at {AZURITE_BIN} (run npm install in tools/node)")
        self.location.mkdir(parents=True, exist_ok=True)
        args = [
            str(AZURITE_BIN),
            "--silent",
            "--skipApiVersionCheck",
            "--loose",
            "--blobHost",
            "127.0.0.1",
            "--queueHost",
            "127.0.0.1",
            "--tableHost",
            "127.0.0.1",
            "--blobPort",
            str(self.blob_port),
            "--queuePort",
            str(self.queue_port),
            "--tablePort",
            str(self.table_port),
            "--location",
            str(self.location),
        ]
        log = open(self._log_path, "ab")  # noqa: SIM115 - handed to the child process
        try:
            self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Azurite exited with {self._process.returncode}: {self._log_tail()}")
            if _reachable(self.blob_port) and _reachable(self.queue_port):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Azurite did not start within {self.startup_timeout}s: {self._log_tail()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=5)
        # Wait until the ports are really closed, so "stopped" means unreachable.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (_reachable(self.blob_port) or _reachable(self.queue_port)):
            time.sleep(0.05)

    def close(self) -> None:
        self.stop()
        if self._own_location:
            shutil.rmtree(self.location, ignore_errors=True)

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(self, *args: object) -> None:
        self.close()

    def _log_tail(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


def azurite_fixture(scope: Any = "session", name: str | None = None) -> Any:
    """A pytest fixture yielding a started Azurite, stopped (and its data deleted) afterwards."""

    def _fixture() -> Iterator[Azurite]:
        with Azurite() as azurite:
            yield azurite

    return pytest.fixture(scope=scope, name=name)(_fixture) if name else pytest.fixture(scope=scope)(_fixture)
