"""In-memory OpenTelemetry exporters for tests: every span and every `skinvault.*` log record
the code produces, as Azure Monitor would receive them (it exports the `skinvault` loggers).

    spans, logs = in_memory_telemetry()    # once per process; clear() them per test
    spans.get_finished_spans()
"""

from __future__ import annotations

import logging

from opentelemetry import trace
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared_code.telemetry import SERVICE_NAME

_installed: tuple[InMemorySpanExporter, InMemoryLogRecordExporter] | None = None


def in_memory_telemetry() -> tuple[InMemorySpanExporter, InMemoryLogRecordExporter]:
    global _installed
    if _installed is None:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
            trace.set_tracer_provider(provider)
        spans = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(spans))
        logs = InMemoryLogRecordExporter()
        log_provider = LoggerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
        log_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
        logger = logging.getLogger("skinvault")
        logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=log_provider))
        logger.setLevel(logging.INFO)
        _installed = (spans, logs)
    return _installed
