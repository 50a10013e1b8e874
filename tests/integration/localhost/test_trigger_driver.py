"""The local host drives blob and queue triggers from Azurite like the Functions host does."""

from __future__ import annotations

import base64
import json
import threading
import time

import azure.functions as func
import pytest
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from localhost.host import QueueSettings, TriggerDriver, collect
from tests.support.azurite import Azurite


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    a = Azurite(tmp_path_factory.mktemp("azurite-driver")).start()
    yield a
    a.close()


def _app(calls: dict, fail_queue: bool):
    """A real FunctionApp with one blob and one queue trigger that record their calls."""
    app = func.FunctionApp()
    lock = threading.Lock()

    @app.blob_trigger(arg_name="blob", path="drivertest/{name}", connection="STORAGE", source="EventGrid")
    def on_blob(blob: func.InputStream) -> None:
        with lock:
            calls.setdefault("blobs", []).append((blob.name, blob.read(), blob.blob_properties["ETag"]))

    @app.queue_trigger(arg_name="msg", queue_name="drivertest-q", connection="STORAGE")
    def on_message(msg: func.QueueMessage) -> None:
        with lock:
            calls.setdefault("messages", []).append((msg.get_json(), msg.dequeue_count))
        if fail_queue:
            raise RuntimeError("always fails")

    return collect(app)


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_each_blob_and_etag_is_processed_once_and_quickly(azurite, monkeypatch):
    monkeypatch.setenv("STORAGE", azurite.connection_string)  # the trigger's connection setting, as the host reads it
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = blobs.get_container_client("drivertest")
    container.create_container()
    calls: dict = {}
    _, blob_fns, _ = _app(calls, fail_queue=False)
    driver = TriggerDriver(azurite.connection_string, blob_fns, [], poll_seconds=0.2)
    driver.start()
    try:
        started = time.monotonic()
        container.upload_blob("a/one.bin", b"first")
        assert _wait(lambda: len(calls.get("blobs", [])) == 1)
        assert time.monotonic() - started < 2.0, "new blobs are picked up within about a second"
        time.sleep(1.0)
        assert len(calls["blobs"]) == 1, "the same blob+ETag is not processed twice"
        assert calls["blobs"][0][:2] == ("drivertest/a/one.bin", b"first")
        container.upload_blob("a/one.bin", b"second", overwrite=True)  # new ETag: processed again
        assert _wait(lambda: len(calls["blobs"]) == 2)
        assert calls["blobs"][1][1] == b"second" and calls["blobs"][1][2] != calls["blobs"][0][2]
    finally:
        driver.stop()


def test_a_failing_queue_message_is_retried_then_moved_to_the_poison_queue(azurite, monkeypatch):
    monkeypatch.setenv("STORAGE", azurite.connection_string)
    queues = QueueServiceClient.from_connection_string(azurite.connection_string)
    q = queues.get_queue_client("drivertest-q")
    q.create_queue()
    calls: dict = {}
    _, _, queue_fns = _app(calls, fail_queue=True)
    driver = TriggerDriver(azurite.connection_string, [], queue_fns, poll_seconds=0.1, queue_settings=QueueSettings(visibility_timeout=1))
    driver.start()
    try:
        q.send_message(base64.b64encode(json.dumps({"kind": "test", "n": 1}).encode()).decode())
        poison = queues.get_queue_client("drivertest-q-poison")
        assert _wait(lambda: _count(poison) == 1, timeout=60)
        assert [d for _, d in calls["messages"]] == [1, 2, 3, 4, 5]
        body = json.loads(base64.b64decode(next(iter(poison.peek_messages())).content))
        assert body == {"kind": "test", "n": 1}
        assert _count(q) == 0
    finally:
        driver.stop()


def _count(queue_client) -> int:
    try:
        return queue_client.get_queue_properties().approximate_message_count
    except Exception:  # noqa: BLE001 - not created yet
        return 0


@pytest.mark.parametrize("limit", [1, 3])
def test_blob_trigger_invocations_run_concurrently_up_to_the_setting(azurite, monkeypatch, limit):
    monkeypatch.setenv("STORAGE", azurite.connection_string)
    name = f"concurrent{limit}"
    container = BlobServiceClient.from_connection_string(azurite.connection_string).get_container_client(name)
    container.create_container()
    app = func.FunctionApp()
    lock = threading.Lock()
    running, peak, done = [0], [0], []

    @app.blob_trigger(arg_name="blob", path=f"{name}/{{name}}", connection="STORAGE", source="EventGrid")
    def slow(blob: func.InputStream) -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.6)
        with lock:
            running[0] -= 1
            done.append(blob.name)

    _, blob_fns, _ = collect(app)
    for n in range(6):
        container.upload_blob(f"photo-{n}", b"x")
    driver = TriggerDriver(azurite.connection_string, blob_fns, [], poll_seconds=0.1, blob_concurrency=limit)
    driver.start()
    try:
        assert _wait(lambda: len(done) == 6)
    finally:
        driver.stop()
    assert peak[0] == limit  # as many at once as allowed, never more
    assert sorted(done) == sorted(f"{name}/photo-{n}" for n in range(6))  # each once
