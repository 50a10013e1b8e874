"""StorageQueue against Azurite: JSON messages, base64 on the wire (what the Functions host reads)."""

from __future__ import annotations

import base64
import json

import pytest
from azure.storage.queue import QueueServiceClient

from shared_code.adapters.storage_queue import StorageQueue
from shared_code.ports import EXPORT_JOBS_QUEUE, NOTIFICATIONS_QUEUE, QUEUES, DependencyUnavailable
from tests.support.azurite import Azurite


@pytest.fixture(scope="module")
def azurite():
    with Azurite() as server:
        yield server


@pytest.fixture(scope="module")
def queue(azurite):
    q = StorageQueue.from_connection_string(azurite.connection_string)
    q.ensure_queues()
    return q


@pytest.fixture(scope="module")
def raw(azurite):
    return QueueServiceClient.from_connection_string(azurite.connection_string)


def test_ensure_queues_creates_each_queue_and_its_poison_queue(queue, raw):
    queue.ensure_queues()  # idempotent

    names = {q.name for q in raw.list_queues()}
    for name in QUEUES:
        assert name in names
        assert f"{name}-poison" in names


def test_message_round_trips_as_base64_json(queue, raw):
    message = {"type": "new-photos", "caseId": "case-1", "imageIds": ["img-1", "img-2"]}

    queue.send(NOTIFICATIONS_QUEUE, message)

    received = raw.get_queue_client(NOTIFICATIONS_QUEUE).receive_message()  # no decode policy: the wire text
    assert received is not None
    assert json.loads(base64.b64decode(received.content)) == message
    decoded = queue.queue_client(NOTIFICATIONS_QUEUE).receive_message()  # nothing left for a second reader
    assert decoded is None


def test_adapter_queue_client_decodes_what_it_sent(queue):
    queue.send(EXPORT_JOBS_QUEUE, {"exportId": "exp-1"})

    received = queue.queue_client(EXPORT_JOBS_QUEUE).receive_message()

    assert json.loads(received.content) == {"exportId": "exp-1"}


def test_send_to_a_queue_that_was_never_created_creates_it(azurite, raw):
    StorageQueue.from_connection_string(azurite.connection_string).send("late-queue", {"id": "x"})

    received = raw.get_queue_client("late-queue").receive_message()
    assert json.loads(base64.b64decode(received.content)) == {"id": "x"}


def test_send_while_azurite_is_down_raises_dependency_unavailable():
    with Azurite() as own:
        q = StorageQueue.from_connection_string(own.connection_string)
        q.ping()
        own.stop()

        with pytest.raises(DependencyUnavailable):
            q.send(NOTIFICATIONS_QUEUE, {"id": "x"})
        with pytest.raises(DependencyUnavailable):
            q.ping()
