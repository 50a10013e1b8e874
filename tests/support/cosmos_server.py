"""Start and stop @vercel/cosmosdb-server (the Cosmos DB emulator the tests use) on a free port.

    with running_cosmos_server() as server:
        store = CosmosMetadataStore(server.endpoint, "db", EMULATOR_KEY, connection_verify=False)

The server speaks HTTPS with a self-signed certificate and keeps everything in memory, so a
stopped server leaves nothing behind. `connection_verify=False` is for this emulator only.

One shim, for one emulator bug: a point read of a missing document crashes the emulator's
handler (HTTP 500) where Cosmos DB answers 404. The launcher below wraps that handler so the
emulator answers 404 like the real service; everything else is the package's own code.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The well-known key of the public Cosmos DB emulator, published in Microsoft's documentation.
# It is not a secret; @vercel/cosmosdb-server accepts any key.
EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO_ROOT / "tools" / "node" / "node_modules" / "@vercel" / "cosmosdb-server"

_LAUNCHER = r"""
const path = require("path");
const pkg = process.argv[1];
const port = parseInt(process.argv[2], 10);
const readDocument = require(path.join(pkg, "lib", "handler", "read-document"));
const original = readDocument.default;
readDocument.default = (account, req, res, params) => {
  try {
    return original(account, req, res, params);
  } catch (err) {
    if (err instanceof TypeError) {
      res.statusCode = 404;
      return { code: "NotFound", message: "Entity with the specified id does not exist in the system." };
    }
    throw err;
  }
};
const { createHttpsServer } = require(pkg);
// keepAlive (a documented option of the package) spares a TLS handshake per request.
createHttpsServer({ keepAlive: true }).listen(port, "127.0.0.1", () => console.log("ready " + port));
"""


class CosmosServerError(RuntimeError):
    pass


@dataclass
class CosmosServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the emulator's self-signed certificate
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=1, context=context)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status < 500
    except OSError:
        return False
    finally:
        conn.close()


def start_cosmos_server(*, timeout: float = 20.0, attempts: int = 3) -> CosmosServer:
    """Start the emulator on a free port and wait until it answers; raise CosmosServerError if it cannot."""
    node = shutil.which("node")
    if node is None:
        raise CosmosServerError("node is not on PATH (the Cosmos emulator is a Node package)")
    if not (PACKAGE_DIR / "lib" / "index.js").is_file():
        raise CosmosServerError(f"@vercel/cosmosdb-server is not installed under {PACKAGE_DIR} (run `make test` / npm install in tools/node)")
    problems: list[str] = []
    for _ in range(attempts):
        port = free_port()
        log = tempfile.TemporaryFile()
        process = subprocess.Popen([node, "-e", _LAUNCHER, str(PACKAGE_DIR), str(port)], stdout=subprocess.DEVNULL, stderr=log)
        server = CosmosServer(port=port, process=process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and server.is_running():
            if _answers(port):
                log.close()
                return server
            time.sleep(0.1)
        server.stop()
        log.seek(0)
        problems.append(log.read().decode(errors="replace")[-500:])
        log.close()
    raise CosmosServerError("cosmosdb-server did not start: " + " | ".join(problems))


@contextmanager
def running_cosmos_server(*, timeout: float = 20.0) -> Iterator[CosmosServer]:
    server = start_cosmos_server(timeout=timeout)
    try:
        yield server
    finally:
        server.stop()
