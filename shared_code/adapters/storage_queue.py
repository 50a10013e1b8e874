"""Azure Storage queues (Azurite locally): ports.MessageQueue.

Messages are JSON, base64-encoded on the wire (TextBase64EncodePolicy), which is what the Azure
Functions host's queue trigger expects by default. Messages carry ids only, never patient data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import LinearRetry, QueueClient, QueueServiceClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from shared_code.ports import QUEUES, DependencyUnavailable

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

    def ping(self) -> None:
        try:
            self._service.get_queue_client(QUEUES[0]).get_queue_properties(retry_total=0, timeout=5)
        except ResourceNotFoundError:
            return
        except AzureError as exc:
            raise DependencyUnavailable(DEPENDENCY, type(exc).__name__) from None
