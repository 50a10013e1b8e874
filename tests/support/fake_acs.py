"""A small local HTTPS server that speaks the Azure Communication Services email REST API.

Only for tests: the real `azure-communication-email` SDK is pointed at it with
`EmailClient.from_connection_string(fake.connection_string(), connection_verify=fake.cert_path)`.

What it implements (API version 2025-09-01, as the SDK uses it):
- `POST /emails:send?api-version=...` -> 202, `Operation-Location` header and `{id, status}` body.
  A caller-supplied `Operation-Id` header (a UUID) names the operation; sending the same id again
  records nothing new: 409 while the first operation is still running, otherwise the first answer.
- `GET /emails/operations/{id}?api-version=...` -> 200 `{id, status}`: `Running` until the operation
  has been polled `polls_before_done` times, then `Succeeded` (or `Failed` when told to fail).
- Access-key authentication, checked as ACS checks it: `x-ms-date` (HTTP date, at most 15 minutes
  off), `x-ms-content-sha256` (base64 SHA-256 of the body as received) and
  `Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<b64>`
  over `VERB\\n<path?query>\\n<date>;<host>;<content hash>` keyed with the base64-decoded access key.
  Anything else gets 401.
- Body validation like the service's: senderAddress, recipients.to[].address and content.subject
  are required -> 400 with an ErrorResponse and `x-ms-error-code`.
- `fail_next(n, status)` answers the next n requests with that status (503, 429, ...).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.tls_server import serve_tls, stop_tls

SIGNED_HEADERS = "x-ms-date;host;x-ms-content-sha256"
MAX_CLOCK_SKEW = dt.timedelta(minutes=15)
_AUTH_RE = re.compile(r"^HMAC-SHA256 SignedHeaders=(?P<headers>[^&]+)&Signature=(?P<signature>[A-Za-z0-9+/=]+)$")
_OPERATION_PATH_RE = re.compile(r"^/emails/operations/(?P<id>[^/?]+)$")


@dataclass(frozen=True)
class AcceptedEmail:
    """One email the fake service accepted (what a test asserts on)."""

    operation_id: str
    sender: str
    to: tuple[str, ...]
    subject: str
    plain_text: str | None
    html: str | None
    body: dict[str, Any]


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    status: int
    reason: str = ""


@dataclass
class _Operation:
    id: str
    polls: int = 0
    status: str = "Running"
    fail: bool = False


@dataclass
class _FailurePlan:
    remaining: int = 0
    status: int = 503
    retry_after: int | None = None


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    operations: dict[str, _Operation] = field(default_factory=dict)
    accepted: list[AcceptedEmail] = field(default_factory=list)
    seen: list[SeenRequest] = field(default_factory=list)
    failures: _FailurePlan = field(default_factory=_FailurePlan)


def compute_signature(access_key_b64: str, method: str, path_and_query: str, date: str, host: str, content_hash: str) -> str:
    """The ACS access-key signature (independent of the SDK's implementation)."""
    string_to_sign = f"{method.upper()}\n{path_and_query}\n{date};{host};{content_hash}"
    digest = hmac.new(base64.b64decode(access_key_b64), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def content_sha256(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


class FakeAcsEmailService:
    """Start with `with FakeAcsEmailService() as acs:` (or start()/stop()); all state is per instance."""

    def __init__(self, *, polls_before_done: int = 1, retry_after: int | None = None, workdir: Path | None = None) -> None:
        self.access_key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
        self.polls_before_done = polls_before_done
        self.retry_after = retry_after
        self.fail_operations = False
        self._state = _State()
        self._own_tmp: tempfile.TemporaryDirectory[str] | None = None
        self._workdir = workdir
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.cert_path: Path | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeAcsEmailService:
        if self._workdir is None:
            self._own_tmp = tempfile.TemporaryDirectory(prefix="fake-acs-")
            self._workdir = Path(self._own_tmp.name)
        service = self

        class Handler(_AcsHandler):
            fake = service

        self._server, self._thread, self.cert_path = serve_tls(
            Handler, self._workdir, name="fake-acs", server_class=_QuietThreadingHTTPServer, poll_interval=0.05, do_handshake_on_connect=False
        )
        return self

    def stop(self) -> None:
        stop_tls(self._server, self._thread)
        self._server, self._thread = None, None
        if self._own_tmp is not None:
            self._own_tmp.cleanup()
            self._own_tmp = None

    def __enter__(self) -> FakeAcsEmailService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def connection_string(self, access_key: str | None = None) -> str:
        return f"endpoint={self.endpoint};accesskey={access_key or self.access_key}"

    # ------------------------------------------------------------------ control + inspection
    def fail_next(self, count: int, status: int = 503, retry_after: int | None = None) -> None:
        """Answer the next `count` requests (any path) with `status` and an ACS-style error body."""
        with self._state.lock:
            self._state.failures = _FailurePlan(remaining=count, status=status, retry_after=retry_after)

    @property
    def accepted(self) -> list[AcceptedEmail]:
        with self._state.lock:
            return list(self._state.accepted)

    @property
    def seen(self) -> list[SeenRequest]:
        with self._state.lock:
            return list(self._state.seen)

    def statuses(self, method: str | None = None) -> list[int]:
        return [r.status for r in self.seen if method is None or r.method == method]

    def operation_status(self, operation_id: str) -> str | None:
        with self._state.lock:
            op = self._state.operations.get(operation_id)
            return op.status if op else None


class _QuietThreadingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops a connection or fails the TLS handshake is not a test failure.
        return


class _AcsHandler(BaseHTTPRequestHandler):
    fake: FakeAcsEmailService
    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections are dropped after this

    def setup(self) -> None:
        self.connection = self.request
        self.connection.settimeout(self.timeout)
        self.connection.do_handshake()  # in this request's thread, not the accept loop
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # quiet test server
        return

    # ------------------------------------------------------------------ plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, payload: dict[str, Any] | None, headers: dict[str, str] | None = None, reason: str = "") -> None:
        data = json.dumps(payload).encode("utf-8") if payload is not None else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)
        state = self.fake._state
        with state.lock:
            state.seen.append(SeenRequest(self.command, urlsplit(self.path).path, status, reason))

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, reason: str | None = None) -> None:
        all_headers = {"x-ms-error-code": code, **(headers or {})}
        self._send_json(status, {"error": {"code": code, "message": message}}, all_headers, reason=reason or code)

    def _planned_failure(self) -> bool:
        state = self.fake._state
        with state.lock:
            plan = state.failures
            if plan.remaining <= 0:
                return False
            plan.remaining -= 1
            status, retry_after = plan.status, plan.retry_after
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
        self._error(status, code, "The service is temporarily unavailable.", headers)
        return True

    def _authenticate(self, body: bytes) -> str | None:
        """Return None when the request is signed with our key, else the reason for a 401."""
        date = self.headers.get("x-ms-date") or self.headers.get("Date")
        host = self.headers.get("Host")
        claimed_hash = self.headers.get("x-ms-content-sha256")
        auth = self.headers.get("Authorization", "")
        if not (date and host and claimed_hash and auth):
            return "MissingAuthenticationHeaders"
        try:
            sent_at = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return "InvalidDate"
        if sent_at.tzinfo is None or abs(dt.datetime.now(dt.UTC) - sent_at) > MAX_CLOCK_SKEW:
            return "RequestTimeSkewed"
        if not hmac.compare_digest(claimed_hash, content_sha256(body)):
            return "ContentHashMismatch"
        match = _AUTH_RE.match(auth)
        if not match or match.group("headers").lower() != SIGNED_HEADERS:
            return "InvalidAuthorizationHeader"
        expected = compute_signature(self.fake.access_key, self.command, self.path, date, host, claimed_hash)
        if not hmac.compare_digest(expected, match.group("signature")):
            return "InvalidSignature"
        return None

    def _begin(self) -> tuple[bytes, dict[str, list[str]]] | None:
        body = self._read_body()
        if self._planned_failure():
            return None
        problem = self._authenticate(body)
        if problem is not None:
            self._error(401, "Denied", "Denied by the resource provider.", reason=problem)
            return None
        query = parse_qs(urlsplit(self.path).query)
        if not query.get("api-version"):
            self._error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
            return None
        return body, query

    # ------------------------------------------------------------------ routes
    def do_POST(self) -> None:  # http.server naming
        if urlsplit(self.path).path != "/emails:send":
            self._read_body()
            self._error(404, "NotFound", "Not found.")
            return
        begun = self._begin()
        if begun is None:
            return
        body, query = begun
        api_version = query["api-version"][0]
        try:
            message = json.loads(body)
        except ValueError:
            self._error(400, "InvalidRequestBody", "The request body is not valid JSON.")
            return
        problem = _validate_message(message)
        if problem:
            self._error(400, "BadRequest", problem)
            return
        operation_id = self.headers.get("Operation-Id") or str(uuid.uuid4())
        try:
            uuid.UUID(operation_id)
        except ValueError:
            self._error(400, "InvalidOperationId", "Operation-Id must be a UUID.")
            return

        state = self.fake._state
        with state.lock:
            existing = state.operations.get(operation_id)
            if existing is None:
                state.operations[operation_id] = _Operation(id=operation_id, fail=self.fake.fail_operations)
                content = message["content"]
                state.accepted.append(
                    AcceptedEmail(
                        operation_id=operation_id,
                        sender=message["senderAddress"],
                        to=tuple(r["address"] for r in message["recipients"]["to"]),
                        subject=content["subject"],
                        plain_text=content.get("plainText"),
                        html=content.get("html"),
                        body=message,
                    )
                )
            status = state.operations[operation_id].status
        if existing is not None and status == "Running":
            self._error(409, "Conflict", "An operation with this Operation-Id is still in progress.")
            return
        host = self.headers["Host"]
        headers = {"Operation-Location": f"https://{host}/emails/operations/{operation_id}?api-version={api_version}"}
        if self.fake.retry_after is not None and status == "Running":
            headers["retry-after"] = str(self.fake.retry_after)
        self._send_json(202, {"id": operation_id, "status": status}, headers)

    def do_GET(self) -> None:  # http.server naming
        match = _OPERATION_PATH_RE.match(urlsplit(self.path).path)
        if not match:
            self._read_body()
            self._error(404, "NotFound", "Not found.")
            return
        if self._begin() is None:
            return
        state = self.fake._state
        with state.lock:
            op = state.operations.get(match.group("id"))
            if op is not None and op.status == "Running":
                op.polls += 1
                if op.polls >= self.fake.polls_before_done:
                    op.status = "Failed" if op.fail else "Succeeded"
            snapshot = (op.id, op.status) if op else None
        if snapshot is None:
            self._error(404, "NotFound", "Operation not found.")
            return
        op_id, status = snapshot
        payload: dict[str, Any] = {"id": op_id, "status": status}
        if status == "Failed":
            payload["error"] = {"code": "EmailDroppedAllRecipientsSuppressed", "message": "Message failed to deliver."}
        headers = {}
        if self.fake.retry_after is not None and status == "Running":
            headers["retry-after"] = str(self.fake.retry_after)
        self._send_json(200, payload, headers)


def _validate_message(message: Any) -> str | None:
    if not isinstance(message, dict):
        return "The request body must be an EmailMessage object."
    sender = message.get("senderAddress")
    if not isinstance(sender, str) or "@" not in sender:
        return "senderAddress is required and must be an email address."
    recipients = message.get("recipients")
    to = recipients.get("to") if isinstance(recipients, dict) else None
    if not isinstance(to, list) or not to:
        return "recipients.to must list at least one recipient."
    for r in to:
        address = r.get("address") if isinstance(r, dict) else None
        if not isinstance(address, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
            return "Invalid email address format."
    content = message.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("subject"), str) or not content["subject"]:
        return "content.subject is required."
    if not (content.get("plainText") or content.get("html")):
        return "content must have plainText or html."
    return None
