"""The local host behaves like the Functions host: routes, problems, start-up errors, outages."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from tests.support.azurite import free_port
from tests.support.stack import ROOT, LocalStack


def test_unknown_api_route_is_a_404_problem(stack):
    r = httpx.get(stack.base_url + "/api/no/such/thing")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 404


def test_wrong_method_is_a_404_problem_as_in_azure(stack):
    r = httpx.put(stack.base_url + "/api/health")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert "allow" not in r.headers and r.headers["x-correlation-id"]


@pytest.mark.parametrize("path", ["/api/health%0A", "/api/folders%0Ax", "/api/%0A", "/js/app.js%0A", "/no-such-file.css"])
def test_an_unmatched_path_even_with_a_newline_is_a_404_problem_with_a_correlation_id(stack, path):
    r = httpx.get(stack.base_url + path, headers={"X-Correlation-Id": "corr-404-7"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["x-correlation-id"] == "corr-404-7" and r.json()["correlationId"] == "corr-404-7"
    generated = httpx.get(stack.base_url + path)
    assert generated.status_code == 404 and generated.headers["x-correlation-id"]


def test_non_http_functions_cannot_be_invoked_for_a_route_that_is_not_a_function(stack):
    r = httpx.post(stack.base_url + "/admin/functions/health_check", json={})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def _peek(queue) -> list[str]:
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return [m.content for m in queue.peek_messages(max_messages=32)]
    except ResourceNotFoundError:
        return []


def test_a_malformed_notification_message_is_poisoned_and_the_next_email_still_goes(stack):
    from azure.storage.queue import QueueServiceClient

    from tests.e2e.helpers import Clinic, Patient

    queues = QueueServiceClient.from_connection_string(stack.azurite.connection_string)
    queues.get_queue_client("notifications").send_message("{junk")
    clinic = Clinic(stack, name="Junk-proof Dermatology")
    Patient(stack, name="Quinn Queue").share_with(clinic.id)
    poison = queues.get_queue_client("notifications-poison")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        contents = _peek(poison)
        sent = [e for e in stack.emails() if clinic.clinic["notificationEmail"] in e]
        if "{junk" in contents and sent:
            break
        time.sleep(0.3)
    assert "{junk" in contents, "the undecodable message is on the poison queue as it was"
    assert sent, "the share notification behind it was still sent"


def test_a_function_on_a_reserved_route_stops_the_host_naming_it(tmp_path):
    (tmp_path / "reserved_app.py").write_text(
        "import azure.functions as func\n"
        "app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)\n"
        "@app.route(route='admin/clinics', methods=['POST'])\n"
        "def create_clinic(req):\n"
        "    return func.HttpResponse('')\n"
    )
    cmd = [
        sys.executable,
        "-m",
        "localhost.host",
        "--app",
        "reserved_app",
        "--no-triggers",
        "--port",
        str(free_port()),
        "--settings",
        str(tmp_path / "none.json"),
    ]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": f"{ROOT}:{tmp_path}"}
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "create_clinic" in result.stderr and "built in routes" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_correlation_id_is_echoed_and_logged(stack):
    r = httpx.get(stack.base_url + "/api/health", headers={"X-Correlation-Id": "corr-e2e-42"})
    assert r.headers["x-correlation-id"] == "corr-e2e-42"
    deadline = time.monotonic() + 5
    while "correlation_id=corr-e2e-42" not in stack.host_log() and time.monotonic() < deadline:
        time.sleep(0.1)
    line = next(ln for ln in stack.host_log().splitlines() if "correlation_id=corr-e2e-42" in ln)
    assert "function=health_check" in line and "status=200" in line and "duration_ms=" in line


def test_the_openapi_document_is_served(stack):
    r = httpx.get(stack.base_url + "/api/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.1")


def _run_host(*args: str, env_settings: dict | None = None, tmp_path=None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "localhost.host", *args]
    if env_settings is not None:
        path = tmp_path / "settings.json"
        path.write_text(json.dumps({"Values": env_settings}))
        cmd += ["--settings", str(path)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path or ROOT)})


def test_a_port_in_use_is_a_one_line_error(stack, tmp_path):
    result = _run_host("--port", str(stack.port), env_settings=stack.settings(), tmp_path=tmp_path)
    assert result.returncode != 0
    assert "already in use" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_azurite_is_a_one_line_error(stack, tmp_path):
    settings = dict(stack.settings())
    dead = free_port()
    settings["STORAGE"] = settings["STORAGE"].replace(str(stack.azurite.blob_port), str(dead))
    settings["UPLOADS_STORAGE"] = settings["STORAGE"]
    result = _run_host("--port", str(free_port()), env_settings=settings, tmp_path=tmp_path)
    assert result.returncode != 0 and "Azurite" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_setting_is_a_one_line_error_naming_it(stack, tmp_path):
    settings = dict(stack.settings())
    del settings["MAX_UPLOAD_BYTES"]
    result = _run_host("--port", str(free_port()), env_settings=settings, tmp_path=tmp_path)
    assert result.returncode != 0 and "MAX_UPLOAD_BYTES" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory):
    s = LocalStack(tmp_path_factory.mktemp("outage")).start()
    yield s
    s.close()


def _health(stack) -> int:
    return httpx.get(stack.base_url + "/api/health", timeout=10).status_code


def test_health_goes_503_when_azurite_stops_and_recovers_without_a_restart(outage_stack):
    assert _health(outage_stack) == 200
    outage_stack.azurite.stop()
    started = time.monotonic()
    r = httpx.get(outage_stack.base_url + "/api/health", timeout=10)
    assert r.status_code == 503 and r.json()["dependencies"]["blobStorage"] == "unavailable"
    assert time.monotonic() - started < 5
    outage_stack.azurite.start()
    deadline = time.monotonic() + 20
    while _health(outage_stack) != 200:
        assert time.monotonic() < deadline, "health did not recover"
        time.sleep(0.3)
