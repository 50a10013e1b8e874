"""A small local HTTPS server speaking the part of Key Vault's key REST API the SDK uses.

Real azure-keyvault-keys clients talk to it unchanged (create them with
``verify_challenge_resource=False, connection_verify=server.cert_path`` and a StaticTokenCredential):

    GET  /keys/{name}                      latest version's key bundle (public part only)
    GET  /keys/{name}/{version}            that version's key bundle
    POST /keys/{name}/create               a new version (rotation)
    POST /keys/{name}/{version}/wrapkey    RSA-OAEP-256 only
    POST /keys/{name}/{version}/unwrapkey  RSA-OAEP-256 only

Requests without a bearer token get Key Vault's 401 challenge; any bearer token is accepted
after that. A self-signed certificate for 127.0.0.1/localhost is made at start in a temp dir.

Test-only: stdlib http.server, threaded. It counts operations (``.counts``) so tests can check
caching, and keeps the private keys in memory only.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, AccessTokenInfo
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.support.tls_server import serve_tls, stop_tls

CHALLENGE = 'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"'
_OAEP_256 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class StaticTokenCredential:
    """A TokenCredential that always returns the same token (the fake vault accepts any)."""

    def __init__(self, token: str = "test-token") -> None:  # noqa: S107 - a fake token for a fake vault
        self.token = token
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.calls += 1
        return AccessTokenInfo(self.token, int(time.time()) + 3600)

    def close(self) -> None:
        pass

    def __enter__(self) -> StaticTokenCredential:
        return self

    def __exit__(self, *args: object) -> None:
        pass


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _uint(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


class _KeyVersion:
    def __init__(self, version: str, private_key: rsa.RSAPrivateKey, kty: str, key_ops: list[str]) -> None:
        self.version = version
        self.private_key = private_key
        self.kty = kty
        self.key_ops = key_ops
        self.created = int(time.time())


class FakeKeyVault:
    """Start with ``FakeKeyVault().start()`` (or as a context manager); ``stop()`` when done."""

    def __init__(self, key_size: int = 3072) -> None:
        self.key_size = key_size
        self._keys: dict[str, list[_KeyVersion]] = {}
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {"get": 0, "create": 0, "wrapkey": 0, "unwrapkey": 0, "challenge": 0}
        self.tokens_seen: set[str] = set()
        self._dir: Path | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.cert_path: Path | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> FakeKeyVault:
        self._dir = Path(tempfile.mkdtemp(prefix="fake-keyvault-"))
        handler = type("_BoundHandler", (_Handler,), {"vault": self})
        self._server, self._thread, self.cert_path = serve_tls(handler, self._dir, name="fake-keyvault")
        return self

    def stop(self) -> None:
        stop_tls(self._server, self._thread)
        self._server, self._thread = None, None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> FakeKeyVault:
        return self.start()

    def __exit__(self, *args: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.server_address[1]

    @property
    def vault_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for KeyClient / CryptographyClient / KeyVaultKekProvider."""
        return {"verify_challenge_resource": False, "connection_verify": str(self.cert_path)}

    # ------------------------------------------------------------ keys
    def create_key(self, name: str, *, kty: str = "RSA-HSM", key_size: int | None = None, key_ops: list[str] | None = None) -> str:
        """Create a new version of `name` directly (as an ops person would). Returns its kid."""
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size or self.key_size)
        version = _KeyVersion(uuid.uuid4().hex, private_key, kty, key_ops or ["wrapKey", "unwrapKey"])
        with self._lock:
            self._keys.setdefault(name, []).append(version)
        return self.kid(name, version.version)

    def kid(self, name: str, version: str) -> str:
        return f"{self.vault_url}/keys/{name}/{version}"

    def versions(self, name: str) -> list[str]:
        with self._lock:
            return [v.version for v in self._keys.get(name, [])]

    def public_key(self, name: str, version: str) -> rsa.RSAPublicKey:
        found = self._find(name, version)
        assert found is not None
        return found.private_key.public_key()

    def _find(self, name: str, version: str | None) -> _KeyVersion | None:
        with self._lock:
            versions = self._keys.get(name) or []
            if not versions:
                return None
            if not version:
                return versions[-1]
            return next((v for v in versions if v.version == version), None)

    def bundle(self, name: str, key: _KeyVersion) -> dict[str, Any]:
        numbers = key.private_key.public_key().public_numbers()
        return {
            "key": {
                "kid": self.kid(name, key.version),
                "kty": key.kty,
                "key_ops": key.key_ops,
                "n": _b64url(_uint(numbers.n)),
                "e": _b64url(_uint(numbers.e)),
            },
            "attributes": {
                "enabled": True,
                "created": key.created,
                "updated": key.created,
                "recoveryLevel": "Recoverable+Purgeable",
                "recoverableDays": 90,
                "exportable": False,
            },
            "tags": {},
        }


_PATH = re.compile(r"^/keys/(?P<name>[0-9A-Za-z-]{1,127})(?:/(?P<version>[0-9A-Za-z]{1,64}))?(?:/(?P<op>create|wrapkey|unwrapkey))?/?$")


class _Handler(BaseHTTPRequestHandler):
    vault: FakeKeyVault
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test server
        pass

    # ------------------------------------------------------------ plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: dict[str, Any] | None, extra_headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for key, value in (extra_headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"error": {"code": code, "message": message}})

    def _authorised(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            self.vault.counts["challenge"] += 1
            self._send(
                401,
                {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}},
                {"WWW-Authenticate": CHALLENGE},
            )
            return False
        self.vault.tokens_seen.add(auth[7:].strip())
        return True

    def _route(self) -> re.Match[str] | None:
        split = urlsplit(self.path)
        if "api-version=" not in split.query:
            self._error(400, "BadParameter", "The api-version query parameter is required.")
            return None
        match = _PATH.match(split.path)
        if match is None:
            self._error(404, "NotFound", "Unknown path.")
        return match

    # ------------------------------------------------------------ verbs
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._read_body()
        if not self._authorised():
            return
        match = self._route()
        if match is None:
            return
        if match["op"]:
            self._error(405, "MethodNotAllowed", "Use POST.")
            return
        key = self.vault._find(match["name"], match["version"])
        if key is None:
            self._error(404, "KeyNotFound", f"A key with (name/id) {match['name']} was not found in this key vault.")
            return
        self.vault.counts["get"] += 1
        self._send(200, self.vault.bundle(match["name"], key))

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        raw = self._read_body()
        if not self._authorised():
            return
        match = self._route()
        if match is None:
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._error(400, "BadParameter", "The request body is not JSON.")
            return
        name, version, op = match["name"], match["version"], match["op"]
        if version == "create" and op is None:
            version, op = None, "create"
        if op == "create" and version is None:
            kty = body.get("kty", "RSA-HSM")
            if kty not in ("RSA", "RSA-HSM"):
                self._error(400, "BadParameter", "Only RSA keys are supported by this test vault.")
                return
            kid = self.vault.create_key(name, kty=kty, key_size=body.get("key_size"), key_ops=body.get("key_ops"))
            self.vault.counts["create"] += 1
            key = self.vault._find(name, kid.rsplit("/", 1)[1])
            assert key is not None
            self._send(200, self.vault.bundle(name, key))
            return
        if op not in ("wrapkey", "unwrapkey") or version is None:
            self._error(404, "NotFound", "Unknown operation.")
            return
        key = self.vault._find(name, version)
        if key is None:
            self._error(404, "KeyNotFound", f"A key with (name/id) {name}/{version} was not found in this key vault.")
            return
        if body.get("alg") != "RSA-OAEP-256":
            self._error(400, "BadParameter", f"Algorithm {body.get('alg')!r} is not supported by this test vault.")
            return
        try:
            value = _b64url_decode(str(body.get("value", "")))
        except ValueError:
            self._error(400, "BadParameter", "value is not base64url.")
            return
        operation = "wrapKey" if op == "wrapkey" else "unwrapKey"
        if operation not in key.key_ops:
            self._error(403, "Forbidden", f"Operation {operation} is not permitted on this key.")
            return
        if op == "wrapkey":
            result = key.private_key.public_key().encrypt(value, _OAEP_256)
        else:
            try:
                result = key.private_key.decrypt(value, _OAEP_256)
            except ValueError:
                self._error(400, "BadParameter", "Error unwrapping the key: the ciphertext is invalid.")
                return
        self.vault.counts[op] += 1
        self._send(200, {"kid": self.vault.kid(name, version), "value": _b64url(result)})
