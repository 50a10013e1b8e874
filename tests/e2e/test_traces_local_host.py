"""The local host with TRACE_EXPORTER=file: spans of real requests land in TRACE_FILE, continuing
the caller's traceparent, and without it nothing is exported (tracing is off by default)."""

from __future__ import annotations

import json
import time

from tests.support.stack import LocalStack

CALLER_TRACE = "1af7651916cd43dd8448eb211c80319d"


def _spans(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_the_local_host_appends_request_spans_to_the_trace_file(tmp_path):
    trace_file = tmp_path / "traces.jsonl"
    stack = LocalStack(tmp_path / "stack", extra_settings={"TRACE_EXPORTER": "file", "TRACE_FILE": str(trace_file)}).start()
    try:
        token = stack.token("trace-patient", "patient", "Tracy Tracewell")
        with stack.client(token) as api:
            r = api.get("/api/me", headers={"traceparent": f"00-{CALLER_TRACE}-b7ad6b7169203331-01"})
        assert r.status_code == 200
        deadline = time.monotonic() + 20  # the batch processor exports every few seconds
        mine: list[dict] = []
        while time.monotonic() < deadline and not mine:
            mine = [s for s in _spans(trace_file) if s["context"]["trace_id"] == "0x" + CALLER_TRACE]
            time.sleep(0.5)
        names = {s["name"] for s in mine}
        assert "GET get_me" in names, names
        assert any(n.startswith("store.") for n in names), names
        assert "Tracy" not in trace_file.read_text()
    finally:
        stack.close()
