"""shared_code.telemetry: trace context across hops, ids-only attributes, local exporters."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from opentelemetry import trace

from shared_code import telemetry
from shared_code.config import Settings
from tests.conftest import EXAMPLE_SETTINGS, ROOT
from tests.support.telemetry import in_memory_telemetry

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER = f"00-{CALLER_TRACE}-b7ad6b7169203331-01"


def _trace_id(span) -> str:
    return format(span.get_span_context().trace_id, "032x")


def test_safe_id_keeps_our_ids_and_drops_free_text():
    assert telemetry.safe_id("img-3f2a9c8e1b") == "img-3f2a9c8e1b"
    assert telemetry.safe_id("mail-share-granted-abc123") == "mail-share-granted-abc123"
    for text in ("Alice Example", "alice@example.org", "9434765919", "943 476 5919", "", None, 42, "x" * 300):
        assert telemetry.safe_id(text) is None
    assert telemetry.safe_blob_name("pt-abcd1234/img-ef567890/original.jpg") == "pt-abcd1234/img-ef567890/original.jpg"
    assert telemetry.safe_blob_name("pt-abcd1234/Mole on back.jpg") is None


def test_an_http_request_continues_the_callers_traceparent():
    in_memory_telemetry()
    with telemetry.http_span("get_image", "GET", {"traceparent": CALLER}) as span:
        assert _trace_id(span) == CALLER_TRACE
    with telemetry.http_span("get_image", "GET", {"traceparent": "not a trace parent"}) as span:
        assert span.get_span_context().is_valid and _trace_id(span) != CALLER_TRACE


def test_a_queue_message_carries_the_senders_trace_and_the_consumer_continues_it():
    in_memory_telemetry()
    with telemetry.http_span("grant_share", "POST", {"traceparent": CALLER}):
        message = telemetry.with_trace_context({"kind": "share-granted", "shareId": "shr-1234abcd"})
    assert message["kind"] == "share-granted" and message["traceparent"].split("-")[1] == CALLER_TRACE
    assert telemetry.with_trace_context({"traceparent": CALLER, "kind": "x"})["traceparent"] == CALLER  # kept as sent

    with telemetry.trigger_span("send_notification") as trigger, telemetry.resumed(message, "notification.send") as consumer:
        assert _trace_id(consumer) == CALLER_TRACE
        assert _trace_id(trigger) != CALLER_TRACE
        assert [link.context.span_id for link in consumer.links] == [trigger.get_span_context().span_id]


def test_a_message_without_trace_context_starts_a_new_trace():
    in_memory_telemetry()
    with telemetry.resumed({"kind": "new-images"}, "notification.send") as span:
        assert span.get_span_context().is_valid and _trace_id(span) != CALLER_TRACE
    with telemetry.resumed(None, "upload.process") as span:
        assert span.get_span_context().is_valid


def test_outside_any_span_nothing_is_added_to_a_message():
    assert telemetry.with_trace_context({"kind": "x"}) == {"kind": "x"}
    assert trace.get_current_span().get_span_context().is_valid is False


def test_a_failing_span_records_the_error_type_only():
    spans, _ = in_memory_telemetry()
    spans.clear()
    try:
        with telemetry.span("store.read"):
            raise ValueError("Alice Example, 9434765919")
    except ValueError:
        pass
    (span,) = spans.get_finished_spans()
    assert span.attributes["error.type"] == "ValueError"
    assert span.events == () or all("Alice" not in json.dumps(dict(e.attributes or {})) for e in span.events)
    assert not span.status.description


def test_the_file_exporter_appends_one_json_line_per_span(tmp_path):
    path = tmp_path / "traces.jsonl"
    provider = telemetry.local_provider("file", str(path))
    with provider.get_tracer("test").start_as_current_span("queue.send"):
        pass
    provider.force_flush()
    provider.shutdown()
    (line,) = path.read_text().splitlines()
    assert json.loads(line)["name"] == "queue.send"


def test_tracing_is_off_by_default_and_the_local_exporter_is_a_local_setting():
    settings = Settings.from_env(EXAMPLE_SETTINGS)
    assert settings.trace_exporter == "none" and settings.applicationinsights_connection_string is None
    assert Settings.from_env({**EXAMPLE_SETTINGS, "TRACE_EXPORTER": "file", "TRACE_FILE": "t.jsonl"}).trace_file == "t.jsonl"
    # outside local, TRACE_EXPORTER is not read at all
    azure_like = {
        **EXAMPLE_SETTINGS,
        "SKINVAULT_ENVIRONMENT": "prod",
        "TRACE_EXPORTER": "console",
        "DEV_ISSUER_ENABLED": "false",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
    }
    settings = Settings.from_env(azure_like)
    assert settings.trace_exporter == "none" and settings.applicationinsights_connection_string == "InstrumentationKey=x"


def test_with_a_connection_string_azure_monitor_is_configured_once(tmp_path):
    # in a child process: configure_azure_monitor sets the process-wide providers
    script = (
        "from shared_code import telemetry\n"
        "from shared_code.config import Settings\n"
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "s = Settings.from_env()\n"
        "assert telemetry.configure(s) == 'azure-monitor'\n"
        "assert telemetry.configure(s) == 'azure-monitor'\n"
        "assert isinstance(trace.get_tracer_provider(), TracerProvider)\n"
        "print('ok')\n"
    )
    env = {
        **os.environ,
        **EXAMPLE_SETTINGS,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/",
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "DEV_ISSUER_KEY_PATH": str(tmp_path / "dev.pem"),
    }
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
