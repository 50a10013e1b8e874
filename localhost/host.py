"""SkinVault local host: runs function_app.app the way `func start` would, without Core Tools.

- every HTTP function under http://HOST:PORT/api/<route> with the route templates it declares;
- web/ at / with the headers and fallback from web/staticwebapp.config.json;
- patient/ (the patient app, its own Static Web App in Azure) at /app/ with its own headers;
- the Functions host's start-up rules (localhost/host_rules.py): where Azure would drop a function
  (a route under admin/ or runtime/, a bad name, a duplicate route), this host refuses to start;
- a path or method no function takes is a problem+json 404 (Azure answers 404, never 405);
- blob triggers driven by polling Azurite (each blob+ETag once, receipts kept in the trigger's
  account so a restart does not repeat them, retried, then `webjobs-blobtrigger-poison`);
  a `blob.BlobClient` parameter gets a client, not the content;
- queue triggers driven from Azurite queues (retried after host.json's visibilityTimeout,
  `<queue>-poison` after maxDequeueCount; an undecodable message is poisoned at once);
- timer triggers on their NCRONTAB schedule; `POST /admin/functions/{name}` with `{}` runs one now
  (202), as Core Tools allows locally.

It is never imported by functions/ or shared_code/. Run: python -m localhost.host
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import logging
import mimetypes
import os
import re
import socket
import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from localhost.host_rules import HostRuleError, enforce
from localhost.ncrontab import Schedule, ScheduleError

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("skinvault.localhost")

MAX_DEQUEUE = 5


def load_local_settings(path: Path) -> None:
    """Copy local.settings.json Values into the environment (the environment wins)."""
    if not path.exists():
        return
    values = json.loads(path.read_text()).get("Values", {})
    for key, value in values.items():
        os.environ.setdefault(key, str(value))


# ----------------------------------------------------------------------------- routes
@dataclass
class HttpRoute:
    name: str
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    template: str
    handler: Any
    literal_segments: int


def compile_route(template: str) -> tuple[re.Pattern[str], int]:
    """Functions route template -> regex. Supports {name}, {name?}, {name:constraint}, {*rest}."""
    parts = []
    literals = 0
    for segment in template.strip("/").split("/"):
        m = re.fullmatch(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]+)?(\??)\}", segment)
        if m:
            catch_all, name, optional = m.groups()
            body = f"(?P<{name}>.+)" if catch_all else f"(?P<{name}>[^/]+)"
            parts.append(f"(?:/{body})?" if optional else f"/{body}")
        else:
            literals += 1
            parts.append("/" + re.escape(segment))
    return re.compile("^" + "".join(parts) + r"/?\Z", re.IGNORECASE), literals  # \Z: "$" would also match before a final newline


def collect(app: Any) -> tuple[list[HttpRoute], list[Any], list[Any]]:
    return collect_functions(app.get_functions())  # call once per app: it raises if called twice


def timer_functions(functions: list[Any]) -> list[Any]:
    return [fn for fn in functions if fn.get_trigger().get_binding_name() == "timerTrigger"]


def collect_functions(functions: list[Any]) -> tuple[list[HttpRoute], list[Any], list[Any]]:
    http, blobs, queues = [], [], []
    for fn in functions:
        trigger = fn.get_trigger()
        kind = trigger.get_binding_name()
        if kind == "httpTrigger":
            t = trigger.get_dict_repr()
            methods = tuple(str(getattr(m, "value", m)).upper() for m in (t.get("methods") or ["GET", "POST", "PUT", "PATCH", "DELETE"]))
            template = t.get("route") or fn.get_function_name()
            pattern, literals = compile_route(template)
            http.append(HttpRoute(fn.get_function_name(), methods, pattern, template, fn.get_user_function(), literals))
        elif kind == "blobTrigger":
            blobs.append(fn)
        elif kind == "queueTrigger":
            queues.append(fn)
    # literal segments win over parameters (/me/export before /me/{x}), like the real host
    http.sort(key=lambda r: (-r.literal_segments, r.template))
    return http, blobs, queues


def resolve(http_routes: list[HttpRoute], method: str, path: str) -> tuple[HttpRoute | None, dict[str, str], set[str]]:
    """(route, route params, methods allowed on the path) for a request, as the Functions host routes it.

    No route for the method is a 404 in Azure even where the path exists for another method.
    """
    allowed: set[str] = set()
    for route in http_routes:
        m = route.pattern.match(path)
        if m:
            if method in route.methods:
                return route, {k: v for k, v in m.groupdict().items() if v is not None}, allowed
            allowed.update(route.methods)
    return None, {}, allowed


# ----------------------------------------------------------------------------- web app
def web_config(web_dir: Path) -> dict[str, Any]:
    cfg = web_dir / "staticwebapp.config.json"
    return json.loads(cfg.read_text()) if cfg.exists() else {}


def patient_headers(patient_dir: Path) -> dict[str, str]:
    """The patient app's own globalHeaders; its CSP may also reach the local uploads blob endpoint
    (in Azure that is the ingest account, allowed by the deployed config)."""
    headers = dict(web_config(patient_dir).get("globalHeaders", {}))
    conn = dict(p.split("=", 1) for p in os.environ.get("UPLOADS_STORAGE", "").split(";") if "=" in p)
    endpoint = urlparse(conn.get("BlobEndpoint", ""))
    csp = headers.get("Content-Security-Policy", "")
    if endpoint.scheme and endpoint.netloc and "connect-src" in csp:
        headers["Content-Security-Policy"] = csp.replace("connect-src", f"connect-src {endpoint.scheme}://{endpoint.netloc}", 1)
    return headers


def build_asgi(
    http_routes: list[HttpRoute], web_dir: Path, patient_dir: Path = ROOT / "patient", *, invoke: Callable[[str], bool] | None = None
) -> Any:
    """The ASGI app: /api/* to the HTTP functions, web/ at /, patient/ at /app/, and (with `invoke`)
    the local-only admin API `POST /admin/functions/{name}` that runs a non-HTTP function now, as Core Tools does."""
    import azure.functions as func
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    cfg = web_config(web_dir)
    global_headers: dict[str, str] = cfg.get("globalHeaders", {})
    fallback = (cfg.get("navigationFallback") or {}).get("rewrite", "/index.html")

    from shared_code.api.http import correlation_id_of, problem  # the app's own problem+json, so the host's errors look the same

    def not_found(request: Request, detail: str = "There is no such address.") -> Response:
        probe = func.HttpRequest(method=request.method, url=str(request.url), headers=dict(request.headers), body=b"")
        correlation_id = correlation_id_of(probe)
        log.info("function=- status=404 duration_ms=0.0 correlation_id=%s path_unmatched", correlation_id)
        response = to_starlette(problem(404, "not-found", "Not found", detail, correlation_id=correlation_id))
        if not request.scope["path"].startswith("/api/"):
            response.headers.update(global_headers)
        return response

    def to_starlette(out: Any) -> Response:
        headers = {k: v for k, v in out.headers.items() if k.lower() != "content-type"}
        mimetype = out.mimetype or "text/plain"
        if out.charset and mimetype.startswith(("application/json", "application/problem+json", "text/")):
            mimetype = f"{mimetype}; charset={out.charset}"
        return Response(out.get_body(), status_code=out.status_code, headers=headers, media_type=mimetype)

    async def api(request: Request) -> Response:
        started = time.perf_counter()
        # The whole decoded path: Starlette's path parameter and request.url both drop a %0A.
        match_route, params, _ = resolve(http_routes, request.method, request.scope["path"].removeprefix("/api"))
        if match_route is None:  # a path without a function for this method: 404 as in Azure (never 405)
            return not_found(request, "There is no such API address.")
        body = await request.body()
        headers = {k: v for k, v in request.headers.items()}
        req = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=headers,
            params={k: v for k, v in request.query_params.items()},
            route_params=params,
            body=body,
        )
        try:
            out = await run_in_threadpool(match_route.handler, req)
        except Exception as exc:  # noqa: BLE001 - the real host also turns crashes into 500s
            log.error("function=%s crashed type=%s", match_route.name, type(exc).__name__)
            return to_starlette(problem(500, "internal-error", "Something went wrong", "Try again later."))
        response = to_starlette(out)
        log.info(
            "function=%s status=%s duration_ms=%.1f correlation_id=%s",
            match_route.name,
            out.status_code,
            (time.perf_counter() - started) * 1000,
            out.headers.get("X-Correlation-Id", "-"),
        )
        return response

    web_root = web_dir.resolve()

    async def web(request: Request) -> Response:
        rel = request.scope["path"].lstrip("/") or "index.html"
        target = (web_root / rel).resolve()
        if web_root not in target.parents and target != web_root:
            return not_found(request)
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            if "." in rel.rsplit("/", 1)[-1]:
                return not_found(request)
            target = web_root / fallback.lstrip("/")  # navigation fallback for client-side routes
            if not target.is_file():
                return not_found(request)
        media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Response(target.read_bytes(), media_type=media, headers=global_headers)

    patient_root = patient_dir.resolve()
    patient_global = patient_headers(patient_root)

    def patient_not_found(request: Request) -> Response:
        response = not_found(request)
        response.headers.update(patient_global)
        return response

    async def patient_app(request: Request) -> Response:
        from starlette.responses import RedirectResponse

        if "path" not in request.path_params:
            return RedirectResponse("/app/", status_code=308)
        rel = request.path_params["path"] or "index.html"
        target = (patient_root / rel).resolve()
        if patient_root not in target.parents:
            return patient_not_found(request)
        if not target.is_file():
            if "." in rel.rsplit("/", 1)[-1]:
                return patient_not_found(request)
            target = patient_root / "index.html"  # navigation fallback
        media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix == ".webmanifest":
            media = "application/manifest+json"
        return Response(target.read_bytes(), media_type=media, headers=patient_global)

    async def admin_invoke(request: Request) -> Response:
        name = request.path_params["name"]
        if invoke is None or not invoke(name):
            return not_found(request, "There is no such non-HTTP function.")
        log.info("function=%s invoked through the admin API", name)
        return Response(status_code=202)

    async def unmatched(request: Request, exc: Exception) -> Response:
        return not_found(request)

    routes = [Route("/api/{path:path}", api, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])]
    if invoke is not None:
        routes.append(Route("/admin/functions/{name}", admin_invoke, methods=["POST"]))
    routes += [Route("/app", patient_app, methods=["GET", "HEAD"]), Route("/app/{path:path}", patient_app, methods=["GET", "HEAD"])]
    routes += [Route("/", web, methods=["GET", "HEAD"]), Route("/{path:path}", web, methods=["GET", "HEAD"])]
    # Whatever no route takes (a %0A in the path, a wrong method on a web path) is a problem+json 404 too.
    return Starlette(routes=routes, exception_handlers={404: unmatched, 405: unmatched})


# ----------------------------------------------------------------------------- triggers
RECEIPTS_CONTAINER = "azure-webjobs-hosts"  # where the Functions host keeps blob receipts
BLOB_POISON_QUEUE = "webjobs-blobtrigger-poison"
RECEIVE_VISIBILITY_SECONDS = 30  # how long a message being processed stays hidden from other readers


def _timespan_seconds(value: str) -> float:
    """host.json TimeSpan "hh:mm:ss" (or "d.hh:mm:ss") -> seconds."""
    hours, minutes, seconds = value.split(":")
    days, _, hours = hours.rpartition(".")
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@dataclass(frozen=True)
class QueueSettings:
    """host.json extensions.queues, with the host's defaults."""

    max_dequeue_count: int = MAX_DEQUEUE
    visibility_timeout: float = 0.0  # seconds a failed message waits before its next try
    batch_size: int = 16

    @classmethod
    def from_host_json(cls, path: Path = ROOT / "host.json") -> QueueSettings:
        queues = (json.loads(path.read_text()).get("extensions") or {}).get("queues") or {} if path.exists() else {}
        return cls(
            max_dequeue_count=int(queues.get("maxDequeueCount", MAX_DEQUEUE)),
            visibility_timeout=_timespan_seconds(str(queues.get("visibilityTimeout", "00:00:00"))),
            batch_size=int(queues.get("batchSize", 16)),
        )


def _trigger_parameter_type(fn: Any) -> Any:
    """The annotation of the function's trigger parameter (None when it has none)."""
    import typing

    arg = fn.get_trigger().get_dict_repr().get("name")
    try:
        return typing.get_type_hints(fn.get_user_function()).get(arg)
    except Exception:  # noqa: BLE001 - unresolvable annotations: treat as none
        return None


def _blob_sdk_argument(pytype: Any, connection_name: str, container: str, blob_name: str) -> Any:
    """What the Python worker passes for an SDK-type blob binding (BlobClient, ContainerClient, ...).

    Built by the extension's own converter from the same model binding data the host sends, so the
    function receives a real azure.storage.blob client made from its connection setting, and
    nothing has been downloaded. None when the parameter is not an SDK type.
    """
    try:
        from azurefunctions.extensions.base import Datum
        from azurefunctions.extensions.bindings.blob import BlobClientConverter
    except ImportError:
        return None
    if not isinstance(pytype, type) or not BlobClientConverter.check_input_type_annotation(pytype):
        return None
    content = json.dumps({"Connection": connection_name, "ContainerName": container, "BlobName": blob_name})
    model_binding_data = types.SimpleNamespace(version="1.0", source="AzureStorageBlobs", content_type="application/json", content=content)
    return BlobClientConverter.decode(Datum(model_binding_data, "model_binding_data"), trigger_metadata={}, pytype=pytype)


class TriggerDriver:
    """Drives blob, queue and timer triggers from Azurite the way the Functions host does.

    - blob triggers: each blob+ETag once per function; a receipt blob in the trigger's own account
      (`azure-webjobs-hosts/blobreceipts/...`, as the host keeps them) so a restart does not run
      them again; five failures put a message on that account's `webjobs-blobtrigger-poison`;
      an SDK-type parameter (`blob.BlobClient`) gets a client, never the content;
    - queue triggers: a failed message waits host.json's visibilityTimeout before its next try and
      goes to `<queue>-poison` after maxDequeueCount tries; a message that is not valid base64 goes
      there at once; one bad message never holds up the others in its batch;
    - timer triggers: run on their NCRONTAB schedule (UTC); `fire(name)` runs one now.
    """

    def __init__(
        self,
        connection_string: str,
        blob_functions: list[Any],
        queue_functions: list[Any],
        *,
        timer_functions: list[Any] | None = None,
        poll_seconds: float = 0.3,
        queue_settings: QueueSettings | None = None,
        host_id: str | None = None,
    ):
        self._default_connection = connection_string
        self._blob_services: dict[str, Any] = {}
        self._queue_services: dict[str, Any] = {}
        self._blob_functions = blob_functions
        self._queue_functions = queue_functions
        self._timer_functions = {fn.get_function_name(): fn for fn in timer_functions or []}
        self._timer_locks = {name: threading.Lock() for name in self._timer_functions}
        self._poll = poll_seconds
        self._queues = queue_settings or QueueSettings.from_host_json()
        self._host_id = (host_id or os.environ.get("AzureFunctionsWebHost__hostid") or "skinvault-localhost").lower()
        self._stop = threading.Event()
        self._receipts: set[tuple[str, str, str]] = set()  # (function, blob name, etag) known to have a receipt
        self._failures: dict[tuple[str, str, str], int] = {}
        self._threads: list[threading.Thread] = []

    def _connection_name(self, fn: Any) -> str:
        return fn.get_trigger().get_dict_repr().get("connection") or "AzureWebJobsStorage"

    def _connection(self, fn: Any) -> str:
        """The trigger's connection setting, as the host resolves it (env, else the default)."""
        return os.environ.get(self._connection_name(fn)) or self._default_connection

    def _blob_service(self, connection: str) -> Any:
        from azure.storage.blob import BlobServiceClient

        if connection not in self._blob_services:
            self._blob_services[connection] = BlobServiceClient.from_connection_string(connection, retry_total=0, connection_timeout=3)
        return self._blob_services[connection]

    def _queue_service(self, connection: str | None = None) -> Any:
        from azure.storage.queue import QueueServiceClient

        connection = connection or self._default_connection
        if connection not in self._queue_services:
            self._queue_services[connection] = QueueServiceClient.from_connection_string(connection, retry_total=0, connection_timeout=3)
        return self._queue_services[connection]

    def start(self) -> None:
        for fn in self._blob_functions:
            self._threads.append(threading.Thread(target=self._blob_loop, args=(fn,), daemon=True, name=f"blob-{fn.get_function_name()}"))
        for fn in self._queue_functions:
            self._threads.append(threading.Thread(target=self._queue_loop, args=(fn,), daemon=True, name=f"queue-{fn.get_function_name()}"))
        for name, fn in self._timer_functions.items():
            self._threads.append(threading.Thread(target=self._timer_loop, args=(fn,), daemon=True, name=f"timer-{name}"))
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)

    # ------------------------------------------------------------------ blob triggers
    def _receipt_name(self, function: str, container: str, blob_name: str, etag: str) -> str:
        return f"blobreceipts/{self._host_id}/Host.Functions.{function}/{etag}/{container}/{blob_name}"

    def _has_receipt(self, receipts: Any, function: str, container: str, blob_name: str, etag: str) -> bool:
        key = (function, f"{container}/{blob_name}", etag)
        if key in self._receipts:
            return True
        if receipts.get_blob_client(self._receipt_name(function, container, blob_name, etag)).exists():
            self._receipts.add(key)
            return True
        return False

    def _write_receipt(self, receipts: Any, function: str, container: str, blob_name: str, etag: str) -> None:
        receipts.get_blob_client(self._receipt_name(function, container, blob_name, etag)).upload_blob(b"", overwrite=True)
        self._receipts.add((function, f"{container}/{blob_name}", etag))

    def _blob_loop(self, fn: Any) -> None:
        path = fn.get_trigger().get_dict_repr()["path"]
        container = path.split("/", 1)[0]
        service = self._blob_service(self._connection(fn))
        client = service.get_container_client(container)
        receipts = service.get_container_client(RECEIPTS_CONTAINER)
        name = fn.get_function_name()
        pytype = _trigger_parameter_type(fn)
        receipts_ready = False
        while not self._stop.is_set():
            try:
                if not receipts_ready:
                    if not receipts.exists():
                        receipts.create_container()
                    receipts_ready = True
                for blob in client.list_blobs(include=["metadata"]):
                    etag = blob.etag.strip('"')
                    if self._stop.is_set() or self._has_receipt(receipts, name, container, blob.name, etag):
                        continue
                    self._run_blob(fn, name, pytype, client, receipts, blob, etag)
            except Exception as exc:  # noqa: BLE001 - Azurite down: keep polling
                log.debug("blob poll failed: %s", type(exc).__name__)
                self._stop.wait(1.0)
            self._stop.wait(self._poll)

    def _run_blob(self, fn: Any, name: str, pytype: Any, client: Any, receipts: Any, blob: Any, etag: str) -> None:
        from azure.functions.blob import InputStream

        container = client.container_name
        key = (name, f"{container}/{blob.name}", etag)
        started = time.perf_counter()
        status = "ok"
        try:
            argument = _blob_sdk_argument(pytype, self._connection_name(fn), container, blob.name)
            if argument is None:  # a plain InputStream parameter: the host sends the content
                data = client.download_blob(blob.name).readall()
                argument = InputStream(
                    data=data,
                    name=f"{container}/{blob.name}",
                    uri=f"{client.url}/{blob.name}",
                    length=len(data),
                    blob_properties={"ETag": etag, "ContentLength": blob.size},
                    metadata=dict(blob.metadata or {}),
                )
            fn.get_user_function()(argument)
            self._write_receipt(receipts, name, container, blob.name, etag)
        except Exception as exc:  # noqa: BLE001 - retried like the host, then poisoned
            status = f"error:{type(exc).__name__}"
            self._failures[key] = self._failures.get(key, 0) + 1
            if self._failures[key] >= self._queues.max_dequeue_count:
                self._write_receipt(receipts, name, container, blob.name, etag)
                message = {
                    "Type": "BlobTrigger",
                    "FunctionId": f"Host.Functions.{name}",
                    "BlobType": "BlockBlob",
                    "ContainerName": container,
                    "BlobName": blob.name,
                    "ETag": etag,
                }
                self._send_poison(
                    self._queue_service(self._connection(fn)), BLOB_POISON_QUEUE, base64.b64encode(json.dumps(message).encode()).decode()
                )
                self._failures.pop(key, None)
                status += ":poisoned"
        log.info("function=%s status=%s duration_ms=%.1f correlation_id=%s", name, status, (time.perf_counter() - started) * 1000, etag)

    @staticmethod
    def _send_poison(service: Any, queue: str, content: str) -> None:
        """Copy a message, as it was, to a poison queue in the given account (created if missing)."""
        q = service.get_queue_client(queue)
        try:
            q.create_queue()
        except Exception:  # noqa: BLE001,S110 - exists
            pass
        q.send_message(content)

    # ------------------------------------------------------------------ queue triggers
    def _queue_loop(self, fn: Any) -> None:
        t = fn.get_trigger().get_dict_repr()
        queue = t["queueName"]
        service = self._queue_service(self._connection(fn))
        client = service.get_queue_client(queue)
        while not self._stop.is_set():
            got = 0
            try:
                batch = list(
                    client.receive_messages(
                        messages_per_page=self._queues.batch_size, visibility_timeout=RECEIVE_VISIBILITY_SECONDS, max_messages=self._queues.batch_size
                    )
                )
            except Exception as exc:  # noqa: BLE001 - Azurite down: keep polling
                log.debug("queue poll failed: %s", type(exc).__name__)
                self._stop.wait(1.0)
                batch = []
            for msg in batch:
                got += 1
                try:
                    self._run_message(fn, service, client, queue, msg)
                except Exception as exc:  # noqa: BLE001 - this message only; it reappears after its visibility timeout
                    log.warning("function=%s message handling failed type=%s correlation_id=%s", fn.get_function_name(), type(exc).__name__, msg.id)
            if not got:
                self._stop.wait(self._poll)

    def _run_message(self, fn: Any, service: Any, client: Any, queue: str, msg: Any) -> None:
        import azure.functions.queue as fq

        name = fn.get_function_name()
        started = time.perf_counter()
        try:
            body = base64.b64decode(msg.content, validate=True)
        except (ValueError, TypeError):
            # The host cannot decode it (host.json messageEncoding is base64): straight to the poison queue.
            self._send_poison(service, f"{queue}-poison", msg.content)
            client.delete_message(msg)
            log.info("function=%s status=undecodable:poisoned duration_ms=0.0 correlation_id=%s", name, msg.id)
            return
        message = fq.QueueMessage(
            id=msg.id,
            body=body,
            dequeue_count=msg.dequeue_count,
            pop_receipt=msg.pop_receipt,
            insertion_time=msg.inserted_on,
            expiration_time=msg.expires_on,
        )
        status = "ok"
        try:
            fn.get_user_function()(message)
            client.delete_message(msg)
        except Exception as exc:  # noqa: BLE001 - retry, then poison like the host
            status = f"error:{type(exc).__name__}"
            if (msg.dequeue_count or 0) >= self._queues.max_dequeue_count:
                self._send_poison(service, f"{queue}-poison", msg.content)
                client.delete_message(msg)
                status += ":poisoned"
            else:
                client.update_message(msg, visibility_timeout=int(self._queues.visibility_timeout))
        log.info("function=%s status=%s duration_ms=%.1f correlation_id=%s", name, status, (time.perf_counter() - started) * 1000, msg.id)

    # ------------------------------------------------------------------ timer triggers
    @property
    def timer_names(self) -> list[str]:
        return sorted(self._timer_functions)

    def _schedule(self, fn: Any) -> Schedule:
        expression = str(fn.get_trigger().get_dict_repr().get("schedule") or "")
        if expression.startswith("%") and expression.endswith("%"):  # an app setting, as the host resolves it
            expression = os.environ.get(expression.strip("%"), "")
        return Schedule.parse(expression)

    def _timer_loop(self, fn: Any) -> None:
        name = fn.get_function_name()
        try:
            schedule = self._schedule(fn)
        except ScheduleError as exc:
            log.error("function=%s timer not started: %s", name, exc)
            return
        if fn.get_trigger().get_dict_repr().get("runOnStartup"):
            self._run_timer(name)
        while not self._stop.is_set():
            now = datetime.now(UTC)
            due = schedule.next_after(now)
            if self._stop.wait((due - now).total_seconds()):
                return
            self._run_timer(name, schedule=schedule, due=due)

    def fire(self, name: str) -> bool:
        """Run a timer function now, in the background (the host's admin API). False: no such timer."""
        if name not in self._timer_functions:
            return False
        threading.Thread(target=self._run_timer, args=(name,), daemon=True, name=f"timer-{name}-manual").start()
        return True

    def _run_timer(self, name: str, *, schedule: Schedule | None = None, due: datetime | None = None) -> None:
        from azure.functions.timer import TimerRequest

        fn = self._timer_functions[name]
        started = time.perf_counter()
        status = "ok"
        with self._timer_locks[name]:  # one run of a timer function at a time, like the host's singleton lock
            late = due is not None and (datetime.now(UTC) - due).total_seconds() > 60
            status_info = {"Last": due.isoformat() if due else None, "Next": schedule.next_after(due).isoformat() if schedule and due else None}
            request = TimerRequest(past_due=late, schedule_status=status_info, schedule={"AdjustForDST": False})
            try:
                fn.get_user_function()(request)
            except Exception as exc:  # noqa: BLE001 - logged like the host; the schedule carries on
                status = f"error:{type(exc).__name__}"
        log.info("function=%s status=%s duration_ms=%.1f correlation_id=timer", name, status, (time.perf_counter() - started) * 1000)


# ----------------------------------------------------------------------------- main
def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def storage_reachable(connection_string: str) -> bool:
    parts = dict(p.split("=", 1) for p in connection_string.split(";") if "=" in p)
    endpoint = parts.get("BlobEndpoint", "")
    if not endpoint:
        return True
    u = urlparse(endpoint)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 80), timeout=2):
            return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="SkinVault local Functions host")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--settings", default=str(ROOT / "local.settings.json"))
    parser.add_argument("--web", default=str(ROOT / "web"))
    parser.add_argument("--no-triggers", action="store_true", help="serve HTTP only")
    parser.add_argument("--app", default="function_app:app", help="MODULE[:ATTRIBUTE] of the FunctionApp to host")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stdout)
    for noisy in ("azure", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    os.chdir(ROOT)
    load_local_settings(Path(args.settings))
    if not port_free(args.host, args.port):
        print(f"error: port {args.port} on {args.host} is already in use (is another host running?)", file=sys.stderr)
        return 2
    connection = os.environ.get("STORAGE", "")
    if connection and not storage_reachable(connection):
        print("error: Azurite (blob storage) is not reachable at the STORAGE endpoint; start it first (make run does)", file=sys.stderr)
        return 3
    sys.path.insert(0, str(ROOT))
    module_name, _, attribute = args.app.partition(":")
    try:
        function_app = getattr(importlib.import_module(module_name), attribute or "app")
    except Exception as exc:  # noqa: BLE001 - one clear line, no traceback
        print(f"error: the function app failed to start: {exc}", file=sys.stderr)
        return 4
    functions = function_app.get_functions()  # once per app: a second call raises
    try:
        enforce(functions)  # Azure would drop these functions; the local host refuses to start instead
    except HostRuleError as exc:
        print(f"error: the Functions host would refuse {exc}", file=sys.stderr)
        return 5
    http_routes, blob_fns, queue_fns = collect_functions(functions)
    timer_fns = timer_functions(functions)
    driver = None
    if not args.no_triggers and connection:
        driver = TriggerDriver(connection, blob_fns, queue_fns, timer_functions=timer_fns)
        driver.start()
    import uvicorn

    app = build_asgi(http_routes, Path(args.web), invoke=driver.fire if driver else None)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    log.info(
        "SkinVault local host on http://%s:%s (api under /api, %d HTTP functions, %d blob, %d queue, %d timer triggers)",
        args.host,
        args.port,
        len(http_routes),
        len(blob_fns),
        len(queue_fns),
        len(timer_fns),
    )
    try:
        server.run()
    finally:
        if driver:
            driver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
