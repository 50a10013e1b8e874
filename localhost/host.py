"""SkinVault local host: runs function_app.app the way `func start` would, without Core Tools.

- every HTTP function under http://HOST:PORT/api/<route> with the route templates it declares;
- web/ at / with the headers and fallback from web/staticwebapp.config.json;
- patient/ (the patient app, its own Static Web App in Azure) at /app/ with its own headers;
- blob triggers driven by polling Azurite (each blob+ETag once, retried, then poison);
- queue triggers driven from Azurite queues (retried, `<queue>-poison` after 5 dequeues).

It is never imported by functions/ or shared_code/. Run: python -m localhost.host
"""

from __future__ import annotations

import argparse
import json
import logging
import mimetypes
import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

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
    return re.compile("^" + "".join(parts) + "/?$", re.IGNORECASE), literals


def collect(app: Any) -> tuple[list[HttpRoute], list[Any], list[Any]]:
    return collect_functions(app.get_functions())  # call once per app: it raises if called twice


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
    """(route, route params, methods allowed on the path) for a request, as the Functions host routes it."""
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


def build_asgi(http_routes: list[HttpRoute], web_dir: Path, patient_dir: Path = ROOT / "patient") -> Any:
    import azure.functions as func
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    cfg = web_config(web_dir)
    global_headers: dict[str, str] = cfg.get("globalHeaders", {})
    fallback = (cfg.get("navigationFallback") or {}).get("rewrite", "/index.html")

    from shared_code.api.http import problem  # the app's own problem+json, so the host's errors look the same

    def to_starlette(out: Any) -> Response:
        headers = {k: v for k, v in out.headers.items() if k.lower() != "content-type"}
        mimetype = out.mimetype or "text/plain"
        if out.charset and mimetype.startswith(("application/json", "application/problem+json", "text/")):
            mimetype = f"{mimetype}; charset={out.charset}"
        return Response(out.get_body(), status_code=out.status_code, headers=headers, media_type=mimetype)

    async def api(request: Request) -> Response:
        started = time.perf_counter()
        match_route, params, allowed = resolve(http_routes, request.method, "/" + request.path_params["path"])
        if match_route is None:
            if allowed:
                out = problem(405, "method-not-allowed", "Method not allowed", "This address does not accept that method.")
                out.headers["Allow"] = ", ".join(sorted(allowed))
            else:
                out = problem(404, "not-found", "Not found", "There is no such API address.")
            log.info("function=- status=%s duration_ms=%.1f correlation_id=- path_unmatched", out.status_code, (time.perf_counter() - started) * 1000)
            return to_starlette(out)
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
        rel = request.path_params.get("path", "") or "index.html"
        target = (web_root / rel).resolve()
        if web_root not in target.parents and target != web_root:
            return Response("Not found", status_code=404, headers=global_headers)
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            if "." in rel.rsplit("/", 1)[-1]:
                return Response("Not found", status_code=404, headers=global_headers)
            target = web_root / fallback.lstrip("/")  # navigation fallback for client-side routes
            if not target.is_file():
                return Response("Not found", status_code=404, headers=global_headers)
        media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return Response(target.read_bytes(), media_type=media, headers=global_headers)

    patient_root = patient_dir.resolve()
    patient_global = patient_headers(patient_root)

    async def patient_app(request: Request) -> Response:
        from starlette.responses import RedirectResponse

        if "path" not in request.path_params:
            return RedirectResponse("/app/", status_code=308)
        rel = request.path_params["path"] or "index.html"
        target = (patient_root / rel).resolve()
        if patient_root not in target.parents:
            return Response("Not found", status_code=404, headers=patient_global)
        if not target.is_file():
            if "." in rel.rsplit("/", 1)[-1]:
                return Response("Not found", status_code=404, headers=patient_global)
            target = patient_root / "index.html"  # navigation fallback
        media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix == ".webmanifest":
            media = "application/manifest+json"
        return Response(target.read_bytes(), media_type=media, headers=patient_global)

    return Starlette(
        routes=[
            Route("/api/{path:path}", api, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
            Route("/app", patient_app, methods=["GET", "HEAD"]),
            Route("/app/{path:path}", patient_app, methods=["GET", "HEAD"]),
            Route("/", web, methods=["GET", "HEAD"]),
            Route("/{path:path}", web, methods=["GET", "HEAD"]),
        ]
    )


# ----------------------------------------------------------------------------- triggers
class TriggerDriver:
    """Drives blob and queue triggers from Azurite the way the Functions host does."""

    def __init__(
        self,
        connection_string: str,
        blob_functions: list[Any],
        queue_functions: list[Any],
        *,
        poll_seconds: float = 0.3,
        max_backoff_seconds: int = 10,
    ):
        self._default_connection = connection_string
        self._blob_services: dict[str, Any] = {}
        self._queue_services: dict[str, Any] = {}
        self._blob_functions = blob_functions
        self._queue_functions = queue_functions
        self._poll = poll_seconds
        self._max_backoff = max_backoff_seconds
        self._stop = threading.Event()
        self._done: dict[str, str] = {}  # blob name -> etag processed
        self._failures: dict[tuple[str, str], int] = {}
        self._threads: list[threading.Thread] = []

    def _connection(self, fn: Any) -> str:
        """The trigger's connection setting, as the host resolves it (env, else the default)."""
        name = fn.get_trigger().get_dict_repr().get("connection") or ""
        return os.environ.get(name) or self._default_connection

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
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)

    def _blob_loop(self, fn: Any) -> None:
        from azure.functions.blob import InputStream

        path = fn.get_trigger().get_dict_repr()["path"]
        container = path.split("/", 1)[0]
        client = self._blob_service(self._connection(fn)).get_container_client(container)
        name = fn.get_function_name()
        while not self._stop.is_set():
            try:
                for blob in client.list_blobs(include=["metadata"]):
                    etag = blob.etag.strip('"')
                    if self._done.get(blob.name) == etag:
                        continue
                    key = (blob.name, etag)
                    started = time.perf_counter()
                    status = "ok"
                    try:
                        data = client.download_blob(blob.name).readall()
                        stream = InputStream(
                            data=data,
                            name=f"{container}/{blob.name}",
                            uri=f"{client.url}/{blob.name}",
                            length=len(data),
                            blob_properties={"ETag": etag, "ContentLength": blob.size},
                            metadata=dict(blob.metadata or {}),
                        )
                        fn.get_user_function()(stream)
                        self._done[blob.name] = etag
                    except Exception as exc:  # noqa: BLE001 - retried like the host, then poisoned
                        status = f"error:{type(exc).__name__}"
                        self._failures[key] = self._failures.get(key, 0) + 1
                        if self._failures[key] >= MAX_DEQUEUE:
                            self._done[blob.name] = etag
                            self._poison("webjobs-blobtrigger-poison", {"FunctionId": name, "BlobName": blob.name, "ETag": etag})
                            status += ":poisoned"
                    log.info("function=%s status=%s duration_ms=%.1f correlation_id=%s", name, status, (time.perf_counter() - started) * 1000, etag)
            except Exception as exc:  # noqa: BLE001 - Azurite down: keep polling
                log.debug("blob poll failed: %s", type(exc).__name__)
                self._stop.wait(1.0)
            self._stop.wait(self._poll)

    def _poison(self, queue: str, message: dict[str, Any]) -> None:
        import base64

        q = self._queue_service().get_queue_client(queue)
        try:
            q.create_queue()
        except Exception:  # noqa: BLE001,S110 - exists
            pass
        q.send_message(base64.b64encode(json.dumps(message).encode()).decode())

    def _queue_loop(self, fn: Any) -> None:
        import base64

        import azure.functions.queue as fq

        t = fn.get_trigger().get_dict_repr()
        queue = t["queueName"]
        name = fn.get_function_name()
        client = self._queue_service(self._connection(fn)).get_queue_client(queue)
        while not self._stop.is_set():
            got = 0
            try:
                for msg in client.receive_messages(messages_per_page=8, visibility_timeout=30, max_messages=8):
                    got += 1
                    started = time.perf_counter()
                    try:
                        body = base64.b64decode(msg.content)
                    except Exception:  # noqa: BLE001
                        body = str(msg.content).encode()
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
                        if (msg.dequeue_count or 0) >= MAX_DEQUEUE:
                            self._poison(f"{queue}-poison", json.loads(body or b"{}") if body.startswith(b"{") else {"raw": "unparseable"})
                            client.delete_message(msg)
                            status += ":poisoned"
                        else:
                            client.update_message(msg, visibility_timeout=min(2 ** (msg.dequeue_count or 1), self._max_backoff))
                    log.info("function=%s status=%s duration_ms=%.1f correlation_id=%s", name, status, (time.perf_counter() - started) * 1000, msg.id)
            except Exception as exc:  # noqa: BLE001 - Azurite down: keep polling
                log.debug("queue poll failed: %s", type(exc).__name__)
                self._stop.wait(1.0)
            if not got:
                self._stop.wait(self._poll)


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
    try:
        import function_app
    except Exception as exc:  # noqa: BLE001 - one clear line, no traceback
        print(f"error: the function app failed to start: {exc}", file=sys.stderr)
        return 4
    http_routes, blob_fns, queue_fns = collect(function_app.app)
    driver = None
    if not args.no_triggers and connection:
        driver = TriggerDriver(connection, blob_fns, queue_fns)
        driver.start()
    import uvicorn

    config = uvicorn.Config(build_asgi(http_routes, Path(args.web)), host=args.host, port=args.port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    log.info(
        "SkinVault local host on http://%s:%s (api under /api, %d HTTP functions, %d blob, %d queue triggers)",
        args.host,
        args.port,
        len(http_routes),
        len(blob_fns),
        len(queue_fns),
    )
    try:
        server.run()
    finally:
        if driver:
            driver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
