"""Traces across hops (issue 18): one trace from the phone's HTTP request to the email it causes.

OpenTelemetry API only (no I/O here but the exporter set up by `configure`):

- `configure(settings)` once per process: Azure Monitor (Application Insights) when
  APPLICATIONINSIGHTS_CONNECTION_STRING is set; locally a console or file exporter when
  TRACE_EXPORTER asks for one; otherwise nothing (tests install an in-memory exporter themselves).
- `http_span` (the `endpoint()` layer) continues the caller's W3C `traceparent` header.
- `trace_context()` is what a hop carries forward: queue messages carry it in their body
  (`traceparent` field, added by the queue wrapper in bootstrap), an upload's metadata document
  records it so the blob trigger continues the trace of the request that started the upload.
- `resumed(carrier, name)` starts the consumer's span under that context.

Spans carry ids only: never names, NHS numbers, notes, emails, tokens or keys. `safe_id` keeps
an attribute only when it has the shape of one of our ids.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger("skinvault.telemetry")

TRACER = trace.get_tracer("skinvault")
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
SERVICE_NAME = "skinvault-api"
_PROPAGATOR = TraceContextTextMapPropagator()  # W3C trace context only: no baggage (it could carry data)
# Our ids: a short lowercase prefix and a random or stable tail ("pt-…", "img-…", "shr-…", "mail-…"),
# or blob names made of them ("pt-…/img-…/original.jpg"). Anything else is left out of telemetry.
_ID = re.compile(r"^[a-z]{2,8}-[A-Za-z0-9_-]{4,100}$")
_BLOB_NAME = re.compile(r"^[a-z]{2,8}-[A-Za-z0-9_-]{4,100}(/[a-z]{2,8}-[A-Za-z0-9_-]{4,100})*(/[a-z]{2,16}\.[a-z]{2,4})?/?$")

_METER = metrics.get_meter("skinvault")
# customMetrics the alerts and the workbook read (infra/README.md "What the alerts and the workbook read")
_PENDING_OVERDUE = _METER.create_gauge(
    "skinvault.uploads.pending_overdue", unit="{upload}", description="Uploads still pending 15 minutes after their session opened"
)
_TIME_TO_READY = _METER.create_histogram(
    "skinvault.uploads.time_to_ready_seconds", unit="s", description="From the upload session opening to the photo being ready"
)

_configured: str | None = None
_configure_lock = threading.Lock()


def safe_id(value: object) -> str | None:
    """The value when it looks like one of our ids, else None (never record free text)."""
    return value if isinstance(value, str) and _ID.match(value) else None


def safe_blob_name(value: object) -> str | None:
    return value if isinstance(value, str) and _BLOB_NAME.match(value) else None


# ---------------------------------------------------------------- set-up
def configure(settings: Any) -> str:
    """Set up exporting once per process; returns what was set up (azure-monitor, console, file, none)."""
    global _configured
    with _configure_lock:
        if _configured is not None:
            return _configured
        _configured = _configure(settings)
        if _configured != "none":
            log.info("telemetry exporter=%s", _configured)
        return _configured


def _configure(settings: Any) -> str:
    connection_string = getattr(settings, "applicationinsights_connection_string", None)
    if connection_string:
        from azure.monitor.opentelemetry import configure_azure_monitor

        options: dict[str, Any] = {"connection_string": connection_string, "logger_name": "skinvault"}
        client_id = getattr(settings, "storage_client_id", None)
        if client_id:
            # App Insights has local auth off (Bicep): the app's managed identity sends telemetry.
            from azure.identity import ManagedIdentityCredential

            options["credential"] = ManagedIdentityCredential(client_id=client_id)
        configure_azure_monitor(**options)
        return "azure-monitor"
    exporter_kind = getattr(settings, "trace_exporter", None) or "none"
    if exporter_kind == "none":
        return "none"
    trace.set_tracer_provider(local_provider(exporter_kind, getattr(settings, "trace_file", None)))
    return exporter_kind


def local_provider(exporter_kind: str, trace_file: str | None = None) -> Any:
    """A tracer provider printing spans to the console, or appending them to a file as JSON lines."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if exporter_kind == "file":
        out = open(trace_file or "traces.jsonl", "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        exporter = ConsoleSpanExporter(out=out, formatter=lambda span: span.to_json(indent=None) + "\n")
    else:
        exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


# ---------------------------------------------------------------- context carried across hops
def trace_context() -> dict[str, str]:
    """The current span's W3C trace context ({"traceparent": ...}), empty when nothing is traced."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier


def traceparent() -> str | None:
    return trace_context().get(TRACEPARENT)


def with_trace_context(message: Mapping[str, Any]) -> dict[str, Any]:
    """A queue message with the current trace context added (a message that has one keeps it)."""
    out = dict(message)
    if TRACEPARENT not in out:
        out.update(trace_context())
    return out


def _extract(carrier: Mapping[str, Any] | None) -> otel_context.Context:
    carrier = carrier or {}
    values = {k: v for k in (TRACEPARENT, TRACESTATE) if isinstance(v := carrier.get(k), str) and len(v) <= 512}
    return _PROPAGATOR.extract(values)


# ---------------------------------------------------------------- spans
@contextmanager
def http_span(function_name: str, method: str, headers: Mapping[str, str]) -> Iterator[Span]:
    """The server span of one HTTP request, continuing the caller's `traceparent` header."""
    carrier = {k: headers.get(k) for k in (TRACEPARENT, TRACESTATE)}
    with TRACER.start_as_current_span(
        f"{method} {function_name}",
        context=_extract(carrier),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "faas.trigger": "http", "faas.name": function_name},
        record_exception=False,  # exception messages may hold data: the type is recorded by the caller
    ) as span:
        yield span


@contextmanager
def resumed(
    carrier: Mapping[str, Any] | None, name: str, attributes: Mapping[str, Any] | None = None, *, kind: SpanKind = SpanKind.CONSUMER
) -> Iterator[Span]:
    """A consumer span continuing the trace recorded in `carrier` (a queue message, a metadata
    document); a new trace when it has none. Linked to the span it runs in (the trigger's)."""
    current = trace.get_current_span().get_span_context()
    links = [Link(current)] if current.is_valid else []
    with TRACER.start_as_current_span(
        name, context=_extract(carrier), kind=kind, links=links, attributes=_clean(attributes), record_exception=False
    ) as span:
        yield span


@contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None, *, kind: SpanKind = SpanKind.INTERNAL) -> Iterator[Span]:
    """A child span; failures record the exception type only (messages may hold data)."""
    with TRACER.start_as_current_span(name, kind=kind, attributes=_clean(attributes), record_exception=False, set_status_on_exception=False) as sp:
        try:
            yield sp
        except Exception as exc:
            sp.set_status(Status(StatusCode.ERROR))
            sp.set_attribute("error.type", type(exc).__name__)
            raise


def trigger_span(name: str) -> AbstractContextManager[Span]:
    """A trigger's own span (blob trigger), before it finds the trace it continues."""
    return span(name, kind=SpanKind.CONSUMER)


def _clean(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (attributes or {}).items() if v is not None}


def http_outcome(span: Span, status_code: int, correlation_id: str) -> None:
    span.set_attribute("http.response.status_code", status_code)
    if correlation_id:
        span.set_attribute("skinvault.correlation_id", correlation_id)
    if status_code >= 500:
        span.set_status(Status(StatusCode.ERROR))


# ---------------------------------------------------------------- metrics (counts and durations only)
def record_uploads_pending_overdue(count: int) -> None:
    _PENDING_OVERDUE.set(count)


def record_time_to_ready(seconds: float) -> None:
    if seconds >= 0:
        _TIME_TO_READY.record(seconds)
