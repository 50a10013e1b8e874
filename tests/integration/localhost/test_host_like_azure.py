"""Where a test can tell, the local host's triggers behave as the Functions host does in Azure.

Receipts survive a restart, a poisoned blob goes to the trigger's own account, queue retries wait
host.json's visibility timeout, an undecodable message is poisoned without holding up the rest, an
SDK-type blob parameter gets a client instead of the content, and timers run on their schedule or
on demand through the admin API.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import threading
import time
from pathlib import Path

import azure.functions as func
import azurefunctions.extensions.bindings.blob as blob_ext
import httpx
import pytest
from azure.storage.blob import BlobClient, BlobServiceClient
from azure.storage.queue import QueueServiceClient

from localhost.host import QueueSettings, TriggerDriver, build_asgi, collect_functions, timer_functions
from tests.support.azurite import Azurite

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    a = Azurite(tmp_path_factory.mktemp("azurite-like-azure")).start()
    yield a
    a.close()


@pytest.fixture(scope="module")
def other_account(tmp_path_factory):
    """A second storage account (its own Azurite): the trigger's, apart from the host's."""
    a = Azurite(tmp_path_factory.mktemp("azurite-trigger-account")).start()
    yield a
    a.close()


def _wait(predicate, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _count(queue_client) -> int:
    try:
        return queue_client.get_queue_properties().approximate_message_count
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def _b64(data: dict) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


def _container(connection: str, name: str):
    container = BlobServiceClient.from_connection_string(connection).get_container_client(name)
    if not container.exists():
        container.create_container()
    return container


# ----------------------------------------------------------------------------- blob triggers
def test_blob_receipts_are_kept_in_the_triggers_account_and_survive_a_restart(azurite, monkeypatch):
    monkeypatch.setenv("RECEIPT_STORAGE", azurite.connection_string)
    container = _container(azurite.connection_string, "receipttest")
    calls: list[str] = []
    app = func.FunctionApp()

    @app.blob_trigger(arg_name="blob", path="receipttest/{name}", connection="RECEIPT_STORAGE", source="EventGrid")
    def on_receipt_blob(blob: func.InputStream) -> None:
        calls.append(blob.name or "")

    _, blob_fns, _ = collect_functions(app.get_functions())
    container.upload_blob("p/one.bin", b"one")
    first = TriggerDriver(azurite.connection_string, blob_fns, [], poll_seconds=0.1)
    first.start()
    try:
        assert _wait(lambda: calls == ["receipttest/p/one.bin"])
    finally:
        first.stop()
    receipts = [b.name for b in _container(azurite.connection_string, "azure-webjobs-hosts").list_blobs(name_starts_with="blobreceipts/")]
    assert len(receipts) == 1 and receipts[0].endswith("/receipttest/p/one.bin") and "/Host.Functions.on_receipt_blob/" in receipts[0]

    second = TriggerDriver(azurite.connection_string, blob_fns, [], poll_seconds=0.1)  # a restarted host: nothing in memory
    second.start()
    try:
        container.upload_blob("p/two.bin", b"two")
        assert _wait(lambda: len(calls) == 2)
        time.sleep(0.5)
        assert calls == ["receipttest/p/one.bin", "receipttest/p/two.bin"], "the blob processed before the restart is not processed again"
    finally:
        second.stop()


def test_a_poisoned_blob_goes_to_the_poison_queue_of_the_triggers_own_account(azurite, other_account, monkeypatch):
    monkeypatch.setenv("INGEST_STORAGE", other_account.connection_string)
    container = _container(other_account.connection_string, "poisontest")
    attempts: list[int] = []
    app = func.FunctionApp()

    @app.blob_trigger(arg_name="blob", path="poisontest/{name}", connection="INGEST_STORAGE", source="EventGrid")
    def on_bad_blob(blob: func.InputStream) -> None:
        attempts.append(1)
        raise RuntimeError("cannot process")

    _, blob_fns, _ = collect_functions(app.get_functions())
    driver = TriggerDriver(azurite.connection_string, blob_fns, [], poll_seconds=0.05)  # the host's own account is `azurite`
    driver.start()
    try:
        container.upload_blob("bad.bin", b"bad")
        trigger_poison = QueueServiceClient.from_connection_string(other_account.connection_string).get_queue_client("webjobs-blobtrigger-poison")
        assert _wait(lambda: _count(trigger_poison) == 1)
        time.sleep(0.5)
        assert len(attempts) == 5, "five tries, then poison"
        message = json.loads(base64.b64decode(next(iter(trigger_poison.peek_messages())).content))
        assert message["FunctionId"] == "Host.Functions.on_bad_blob" and message["ContainerName"] == "poisontest" and message["BlobName"] == "bad.bin"
        host_poison = QueueServiceClient.from_connection_string(azurite.connection_string).get_queue_client("webjobs-blobtrigger-poison")
        assert _count(host_poison) == 0, "nothing lands in the host's own account"
    finally:
        driver.stop()


def test_a_blob_client_parameter_gets_a_client_for_the_blob_and_nothing_is_downloaded(azurite, monkeypatch):
    monkeypatch.setenv("SDK_STORAGE", azurite.connection_string)
    container = _container(azurite.connection_string, "sdktypetest")
    seen: list[tuple[type, str, str, int]] = []
    app = func.FunctionApp()

    @app.blob_trigger(arg_name="client", path="sdktypetest/{name}", connection="SDK_STORAGE", source="EventGrid")
    def on_sdk_blob(client: blob_ext.BlobClient) -> None:
        seen.append((type(client), client.container_name, client.blob_name, client.get_blob_properties().size))

    _, blob_fns, _ = collect_functions(app.get_functions())
    driver = TriggerDriver(azurite.connection_string, blob_fns, [], poll_seconds=0.1)
    driver.start()
    try:
        container.upload_blob("p/photo.bin", b"x" * 1234)
        assert _wait(lambda: len(seen) == 1)
        kind, container_name, blob_name, size = seen[0]
        assert issubclass(kind, BlobClient) and (container_name, blob_name, size) == ("sdktypetest", "p/photo.bin", 1234)
    finally:
        driver.stop()


# ----------------------------------------------------------------------------- queue triggers
def test_queue_settings_come_from_host_json():
    settings = QueueSettings.from_host_json(ROOT / "host.json")
    host = json.loads((ROOT / "host.json").read_text())["extensions"]["queues"]
    h, m, s = (int(x) for x in host["visibilityTimeout"].split(":"))
    assert settings.visibility_timeout == h * 3600 + m * 60 + s
    assert settings.max_dequeue_count == host["maxDequeueCount"] and settings.batch_size == host["batchSize"]


def test_a_failed_message_waits_the_visibility_timeout_before_its_next_try(azurite, monkeypatch):
    monkeypatch.setenv("STORAGE", azurite.connection_string)
    queues = QueueServiceClient.from_connection_string(azurite.connection_string)
    q = queues.get_queue_client("visibilitytest")
    q.create_queue()
    tries: list[float] = []
    app = func.FunctionApp()

    @app.queue_trigger(arg_name="msg", queue_name="visibilitytest", connection="STORAGE")
    def on_flaky(msg: func.QueueMessage) -> None:
        tries.append(time.monotonic())
        raise RuntimeError("fails")

    _, _, queue_fns = collect_functions(app.get_functions())
    driver = TriggerDriver(
        azurite.connection_string, [], queue_fns, poll_seconds=0.1, queue_settings=QueueSettings(max_dequeue_count=3, visibility_timeout=2)
    )
    driver.start()
    try:
        q.send_message(_b64({"n": 1}))
        assert _wait(lambda: _count(queues.get_queue_client("visibilitytest-poison")) == 1, timeout=30)
        assert len(tries) == 3
        gaps = [b - a for a, b in zip(tries, tries[1:], strict=False)]
        assert all(gap >= 1.9 for gap in gaps), gaps
    finally:
        driver.stop()


def test_an_undecodable_message_is_poisoned_at_once_and_the_others_in_its_batch_still_run(azurite, monkeypatch):
    monkeypatch.setenv("STORAGE", azurite.connection_string)
    queues = QueueServiceClient.from_connection_string(azurite.connection_string)
    q = queues.get_queue_client("export-jobs")
    q.create_queue()
    done: list[dict] = []
    lock = threading.Lock()
    app = func.FunctionApp()

    @app.queue_trigger(arg_name="msg", queue_name="export-jobs", connection="STORAGE")
    def build_export(msg: func.QueueMessage) -> None:
        body = json.loads(msg.get_body())  # raises on JSON junk, as the export job does
        with lock:
            done.append(body)

    q.send_message(_b64({"exportId": "exp-1"}))
    q.send_message("{junk")  # not base64: the host cannot even decode it
    q.send_message(_b64({"exportId": "exp-2"}))
    _, _, queue_fns = collect_functions(app.get_functions())
    driver = TriggerDriver(azurite.connection_string, [], queue_fns, poll_seconds=0.1, queue_settings=QueueSettings(visibility_timeout=30))
    driver.start()
    try:
        started = time.monotonic()
        poison = queues.get_queue_client("export-jobs-poison")
        assert _wait(lambda: len(done) == 2 and _count(poison) == 1, timeout=10)
        assert time.monotonic() - started < 5, "neither the junk nor a retry wait held up the good messages"
        assert sorted(d["exportId"] for d in done) == ["exp-1", "exp-2"]
        assert next(iter(poison.peek_messages())).content == "{junk", "the poison queue gets the message as it was"
        assert _wait(lambda: _count(q) == 0, timeout=5)
    finally:
        driver.stop()


# ----------------------------------------------------------------------------- timer triggers
def _post(app, path: str) -> httpx.Response:
    """POST {} to the host's ASGI app in-process."""

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            return await client.post(path, json={})

    # on a thread of its own: the main thread may carry another event loop (Playwright's sync API)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, call()).result()


def _timer_app(runs: list[func.TimerRequest], schedule: str) -> list:
    app = func.FunctionApp()

    @app.timer_trigger(arg_name="timer", schedule=schedule, run_on_startup=False)
    def sweep(timer: func.TimerRequest) -> None:
        runs.append(timer)

    return timer_functions(app.get_functions())


def test_a_timer_runs_on_its_ncrontab_schedule(azurite):
    runs: list[func.TimerRequest] = []
    driver = TriggerDriver(azurite.connection_string, [], [], timer_functions=_timer_app(runs, "*/1 * * * * *"))
    driver.start()
    try:
        assert _wait(lambda: len(runs) >= 2, timeout=5), "an every-second schedule runs every second"
        assert isinstance(runs[0], func.TimerRequest) and runs[0].past_due is False
    finally:
        driver.stop()


def test_a_timer_can_be_fired_through_the_admin_api_and_an_unknown_one_is_a_404(azurite, tmp_path):
    runs: list[func.TimerRequest] = []
    driver = TriggerDriver(azurite.connection_string, [], [], timer_functions=_timer_app(runs, "0 0 0 1 1 *"))  # once a year
    driver.start()
    try:
        app = build_asgi([], tmp_path, invoke=driver.fire)
        assert _post(app, "/admin/functions/sweep").status_code == 202
        assert _wait(lambda: len(runs) == 1, timeout=5)
        missing = _post(app, "/admin/functions/no_such_timer")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    finally:
        driver.stop()


def test_without_triggers_there_is_no_admin_api(tmp_path):
    assert _post(build_asgi([], tmp_path), "/admin/functions/sweep").status_code == 404
