"""In-memory OpenTelemetry exporters for tests: every span and every `skinvault.*` log record
the code produces, as Azure Monitor would receive them (it exports the `skinvault` loggers).

    spans, logs = in_memory_telemetry()    # once per process; clear() them per test
    spans.get_finished_spans()
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared_code.telemetry import SERVICE_NAME

_installed: tuple[InMemorySpanExporter, InMemoryLogRecordExporter] | None = None
_metrics: InMemoryMetricReader | None = None


def in_memory_metrics() -> InMemoryMetricReader:
    """A reader of every metric the code records (once per process)."""
    global _metrics
    if _metrics is None:
        _metrics = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[_metrics], resource=Resource.create({"service.name": SERVICE_NAME})))
    return _metrics


def metric_points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    data = reader.get_metrics_data()
    if data is None:
        return []
    return [
        point
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
        if metric.name == name
        for point in metric.data.data_points
    ]


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
