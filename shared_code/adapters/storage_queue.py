"""Azure Storage queues (Azurite locally): ports.MessageQueue.

Messages are JSON, base64-encoded on the wire (TextBase64EncodePolicy), which is what the Azure
Functions host's queue trigger expects by default. Messages carry ids only, never patient data.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import LinearRetry, QueueClient, QueueServiceClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from shared_code.ports import QUEUES, DependencyUnavailable, PoisonedMessage

DEPENDENCY = "queue storage"
POISON_SUFFIX = "-poison"  # the Functions host moves a message here after maxDequeueCount failures

CLIENT_DEFAULTS: dict[str, Any] = {"connection_timeout": 5, "read_timeout": 30}


def _client_kwargs(overrides: Mapping[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        **CLIENT_DEFAULTS,
        "retry_policy": LinearRetry(backoff=1, random_jitter_range=0.5, retry_total=2),  # type: ignore[arg-type]  # a float works; the hint says int
    }
    kwargs.update(overrides)
    return kwargs


def from_connection_string(conn: str, **client_kwargs: Any) -> StorageQueue:
    return StorageQueue.from_connection_string(conn, **client_kwargs)


def from_identity(queue_uri: str, credential: TokenCredential, **client_kwargs: Any) -> StorageQueue:
    return StorageQueue.from_identity(queue_uri, credential, **client_kwargs)


def _poisoned(queue: str, message_id: str, content: str, inserted_on: Any, dequeue_count: int | None) -> PoisonedMessage:
    try:
        body = json.loads(base64.b64decode(content, validate=True))
    except (ValueError, TypeError):
        body = None
    return PoisonedMessage(
        queue=queue, message_id=message_id, inserted_on=inserted_on, dequeue_count=dequeue_count or 0, body=body if isinstance(body, dict) else None
    )


def encode_message(message: Mapping[str, Any]) -> str:
    """The JSON text of a message (compact, keys sorted); the queue client base64-encodes it."""
    return json.dumps(dict(message), separators=(",", ":"), sort_keys=True, ensure_ascii=True)


class StorageQueue:
    def __init__(self, queue_service_client: QueueServiceClient) -> None:
        self._service = queue_service_client

    @classmethod
    def from_connection_string(cls, conn: str, **client_kwargs: Any) -> StorageQueue:
        """Connection string (Azurite locally)."""
        return cls(QueueServiceClient.from_connection_string(conn, **_client_kwargs(client_kwargs)))

    @classmethod
    def from_identity(cls, queue_uri: str, credential: TokenCredential, **client_kwargs: Any) -> StorageQueue:
        """Managed identity (Azure): STORAGE__queueServiceUri."""
        return cls(QueueServiceClient(queue_uri, credential=credential, **_client_kwargs(client_kwargs)))

    def queue_client(self, queue: str) -> QueueClient:
        return self._service.get_queue_client(
            queue,
            message_encode_policy=TextBase64EncodePolicy(),
            message_decode_policy=TextBase64DecodePolicy(),
        )

    def ensure_queues(self) -> None:
        for name in QUEUES:
            for queue in (name, name + POISON_SUFFIX):
                try:
                    self._service.create_queue(queue)
                except ResourceExistsError:
                    pass
                except AzureError as exc:
                    raise DependencyUnavailable(DEPENDENCY, type(exc).__name__) from None

    def send(self, queue: str, message: Mapping[str, Any]) -> None:
        text = encode_message(message)
        client = self.queue_client(queue)
        try:
            try:
                client.send_message(text)
            except ResourceNotFoundError:
                # The queue was never created (fresh emulator): create it and send once more.
                try:
                    client.create_queue()
                except ResourceExistsError:
                    pass
                client.send_message(text)
        except AzureError as exc:
            raise DependencyUnavailable(DEPENDENCY, type(exc).__name__) from None

    # ------------------------------------------------------------ ops (the manage CLI): poison queues
    def poisoned(self, queue: str, limit: int = 32) -> list[PoisonedMessage]:
        """Up to `limit` messages waiting in `<queue>-poison` (peeked: nothing changes)."""
        client = self._service.get_queue_client(queue + POISON_SUFFIX)
        try:
            peeked = client.peek_messages(max_messages=min(max(limit, 1), 32))
        except ResourceNotFoundError:
            return []
        except AzureError as exc:
            raise DependencyUnavailable(DEPENDENCY, type(exc).__name__) from None
        return [_poisoned(queue, m.id, m.content, m.inserted_on, m.dequeue_count) for m in peeked]

    def redrive(self, queue: str, limit: int = 32) -> list[PoisonedMessage]:
        """Move up to `limit` messages from `<queue>-poison` back to `queue` (sent again as they
        were; a message that is not base64 JSON stays where it is). Returns those moved."""
        poison = self._service.get_queue_client(queue + POISON_SUFFIX)
        target = self._service.get_queue_client(queue)
        moved: list[PoisonedMessage] = []
        try:
            for m in poison.receive_messages(max_messages=min(max(limit, 1), 32), visibility_timeout=60):
                message = _poisoned(queue, m.id, m.content, m.inserted_on, m.dequeue_count)
                if message.body is None:
                    continue  # undecodable: left in the poison queue (visible again in a minute)
                target.send_message(m.content)  # already base64 text: sent exactly as it was
                poison.delete_message(m)
                moved.append(message)
                if len(moved) >= limit:
                    break
        except ResourceNotFoundError:
            return moved
        except AzureError as exc:
            raise DependencyUnavailable(DEPENDENCY, type(exc).__name__) from None
        return moved

    def drop_poisoned(self, queue: str, match: Callable[[Mapping[str, Any]], bool], limit: int = 32) -> int:
        """Delete the messages in `<queue>-poison` whose JSON body `match`es (their cause settled);
        the others stay (visible again within a minute). Returns how many were deleted."""
        poison = self._service.get_queue_client(queue + POISON_SUFFIX)
        dropped = 0
        try:
            for m in poison.receive_messages(max_messages=min(max(limit, 1), 32), visibility_timeout=60):
                message = _poisoned(queue, m.id, m.content, m.inserted_on, m.dequeue_count)
                if message.body is not None and match(message.body):
                    poison.delete_message(m)
                    dropped += 1
                else:
                    poison.update_message(m, visibility_timeout=0)  # not ours: visible again at once
        except ResourceNotFoundError:
            return dropped
        except AzureError as exc:
            raise DependencyUnavailable(DEPENDENCY, type(exc).__name__) from None
        return dropped

    def ping(self) -> None:
        try:
            self._service.get_queue_client(QUEUES[0]).get_queue_properties(retry_total=0, timeout=5)
        except ResourceNotFoundError:
            return
        except AzureError as exc:
            raise DependencyUnavailable(DEPENDENCY, type(exc).__name__) from None
