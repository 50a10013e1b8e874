"""EmailSender adapter for Azure Communication Services (azure-communication-email).

In Azure the client authenticates with a TokenCredential (the Function App's managed identity);
tests use an access-key connection string against a local HTTPS fake of the REST API.

Duplicate sends: each message's `message_id` is turned into a deterministic UUID sent as the
`Operation-Id` header, so a retried send (SDK retry, queue redelivery, a second worker) names the
same ACS operation and ACS does not queue the email twice. If ACS answers 409 (that operation is
still in progress) we wait on the existing operation instead of sending again.

Failures are mapped for the queue trigger:
- DependencyUnavailable("email"): connection errors, timeouts, 5xx, 429, 401/403 (credential or
  role problems that an operator can fix), the operation ending Failed/Canceled, or not finishing
  within `send_timeout_seconds`. The trigger lets the message be retried (then the poison queue).
- EmailRejected: ACS refused this message as invalid (400/413/415/422). Retrying cannot help.

Only ids are logged: never the recipient, subject or body (ACS error messages can echo the
recipient address, so they are not logged or put into exceptions either; the error code is).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any, cast

from azure.communication.email import EmailClient
from azure.core.credentials import AzureKeyCredential, TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError
from azure.core.pipeline.policies import RetryPolicy
from azure.core.rest import HttpRequest

from shared_code.ports import DependencyUnavailable, EmailMessage

logger = logging.getLogger(__name__)

DEPENDENCY = "email"
# Fixed namespace: operation ids must stay the same across releases for deduplication to work.
OPERATION_ID_NAMESPACE = uuid.UUID("6f1d3a52-3c1e-4d55-9a43-5b7f2f0c9e11")
# ACS said no to the message itself: sending it again will not change the answer.
REJECTED_STATUSES = frozenset({400, 413, 415, 422})
_TERMINAL_FAILURES = frozenset({"failed", "canceled", "cancelled"})


class EmailRejected(Exception):
    """ACS refused the message as invalid (bad address, too large...). Do not retry it."""

    def __init__(self, message_id: str, status: int | None, error_code: str | None) -> None:
        super().__init__(f"email {message_id} rejected by ACS: HTTP {status} {error_code or ''}".rstrip())
        self.message_id = message_id
        self.status = status
        self.error_code = error_code


def operation_id_for(message_id: str) -> str:
    """The ACS Operation-Id (a UUID, as ACS requires) for one of our message ids."""
    return str(uuid.uuid5(OPERATION_ID_NAMESPACE, message_id))


class AcsEmailSender:
    """EmailSender that sends through Azure Communication Services and waits for the outcome."""

    def __init__(
        self,
        endpoint: str,
        credential: TokenCredential | AzureKeyCredential,
        from_address: str,
        *,
        send_timeout_seconds: float = 60.0,
        poll_interval_seconds: float = 2.0,
        **client_kwargs: Any,
    ) -> None:
        kwargs = _client_defaults(poll_interval_seconds, client_kwargs)
        self._setup(EmailClient(endpoint, credential, **kwargs), from_address, send_timeout_seconds, poll_interval_seconds)

    @classmethod
    def from_connection_string(
        cls,
        connection_string: str,
        from_address: str,
        *,
        send_timeout_seconds: float = 60.0,
        poll_interval_seconds: float = 2.0,
        **client_kwargs: Any,
    ) -> AcsEmailSender:
        """Access-key authentication (`endpoint=https://...;accesskey=<base64>`): local tests only."""
        kwargs = _client_defaults(poll_interval_seconds, client_kwargs)
        sender = cls.__new__(cls)
        sender._setup(EmailClient.from_connection_string(connection_string, **kwargs), from_address, send_timeout_seconds, poll_interval_seconds)
        return sender

    def _setup(self, client: EmailClient, from_address: str, send_timeout_seconds: float, poll_interval_seconds: float) -> None:
        if send_timeout_seconds <= 0 or poll_interval_seconds <= 0:
            raise ValueError("send_timeout_seconds and poll_interval_seconds must be positive")
        self._client = client
        self._from_address = from_address
        self._timeout = send_timeout_seconds
        self._poll_interval = poll_interval_seconds

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AcsEmailSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ EmailSender
    def send(self, message: EmailMessage) -> None:
        if not message.message_id:
            raise ValueError("EmailMessage.message_id is required: it is what stops duplicate sends")
        message_id = message.message_id
        operation_id = operation_id_for(message_id)
        try:
            poller = self._client.begin_send(_payload(message, self._from_address), operation_id=operation_id)
        except ResourceExistsError:
            # 409: an earlier attempt with this Operation-Id is still running. Do not send again;
            # wait for that operation to finish instead.
            logger.info("email already in progress at ACS, waiting: message_id=%s operation_id=%s", message_id, operation_id)
            self._wait_for_existing_operation(message_id, operation_id)
            return
        except HttpResponseError as err:
            raise self._map_send_error(message_id, err) from None
        except AzureError as err:
            logger.warning("email send failed: message_id=%s error=%s", message_id, type(err).__name__)
            raise DependencyUnavailable(DEPENDENCY, f"ACS not reachable ({type(err).__name__})") from None

        try:
            result = poller.result(timeout=self._timeout)
        except HttpResponseError as err:
            status, code = _status_and_code(err)
            logger.warning("email operation failed: message_id=%s operation_id=%s status=%s code=%s", message_id, operation_id, status, code)
            raise DependencyUnavailable(DEPENDENCY, f"ACS send operation failed (HTTP {status} {code or ''})".rstrip()) from None
        except AzureError as err:
            logger.warning("email operation poll failed: message_id=%s operation_id=%s error=%s", message_id, operation_id, type(err).__name__)
            raise DependencyUnavailable(DEPENDENCY, f"ACS not reachable while polling ({type(err).__name__})") from None
        if not poller.done():
            logger.warning("email operation not finished in time: message_id=%s operation_id=%s", message_id, operation_id)
            raise DependencyUnavailable(DEPENDENCY, f"ACS send not confirmed within {self._timeout:g}s")
        outcome = str((result or {}).get("status", "")).lower()
        if outcome != "succeeded":
            logger.warning("email operation ended %s: message_id=%s operation_id=%s", outcome or "without status", message_id, operation_id)
            raise DependencyUnavailable(DEPENDENCY, f"ACS send operation ended with status {outcome or 'unknown'}")
        logger.info("email sent via ACS: message_id=%s operation_id=%s", message_id, operation_id)

    # ------------------------------------------------------------------ helpers
    def _map_send_error(self, message_id: str, err: HttpResponseError) -> Exception:
        status, code = _status_and_code(err)
        if status in REJECTED_STATUSES:
            logger.warning("email rejected by ACS: message_id=%s status=%s code=%s", message_id, status, code)
            return EmailRejected(message_id, status, code)
        logger.warning("email send failed: message_id=%s status=%s code=%s", message_id, status, code)
        return DependencyUnavailable(DEPENDENCY, f"ACS answered HTTP {status} {code or ''}".rstrip())

    def _wait_for_existing_operation(self, message_id: str, operation_id: str) -> None:
        """Poll GET /emails/operations/{id} until it finishes or our time is up."""
        api_version = self._client._config.api_version  # the API version this client speaks
        deadline = time.monotonic() + self._timeout
        while True:
            request = HttpRequest("GET", f"/emails/operations/{operation_id}", params={"api-version": api_version})
            try:
                response = self._client.send_request(request)
            except AzureError as err:
                raise DependencyUnavailable(DEPENDENCY, f"ACS not reachable while polling ({type(err).__name__})") from None
            if response.status_code != 200:
                code = response.headers.get("x-ms-error-code")
                logger.warning("email operation poll failed: message_id=%s status=%s code=%s", message_id, response.status_code, code)
                raise DependencyUnavailable(DEPENDENCY, f"ACS answered HTTP {response.status_code} while polling")
            status = str(response.json().get("status", "")).lower()
            if status == "succeeded":
                logger.info("email sent via ACS (earlier attempt): message_id=%s operation_id=%s", message_id, operation_id)
                return
            if status in _TERMINAL_FAILURES:
                logger.warning("email operation ended %s: message_id=%s operation_id=%s", status, message_id, operation_id)
                raise DependencyUnavailable(DEPENDENCY, f"ACS send operation ended with status {status}")
            if time.monotonic() + self._poll_interval > deadline:
                logger.warning("email operation not finished in time: message_id=%s operation_id=%s", message_id, operation_id)
                raise DependencyUnavailable(DEPENDENCY, f"ACS send not confirmed within {self._timeout:g}s")
            time.sleep(self._poll_interval)


class _BoundedRetryPolicy(RetryPolicy):  # type: ignore[type-arg]  # generic only in the stubs
    """azure-core's RetryPolicy (POST is retried on 500/503/504 and whenever Retry-After is sent,
    which is safe because the Operation-Id dedupes), except that a Retry-After longer than
    `max_retry_after` is not slept through: the message goes back to the queue instead of holding
    the function for minutes."""

    def __init__(self, *, max_retry_after: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._max_retry_after = max_retry_after

    def is_retry(self, settings: dict[str, Any], response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > self._max_retry_after:
            return False
        return super().is_retry(settings, response)


def _client_defaults(poll_interval_seconds: float, client_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Bounded SDK retries and timeouts: the queue trigger does the long-term retrying."""
    kwargs = dict(client_kwargs)
    kwargs.setdefault("polling_interval", poll_interval_seconds)
    kwargs.setdefault("connection_timeout", 10)
    kwargs.setdefault("read_timeout", 30)
    if "retry_policy" not in kwargs:
        retry = {name: kwargs.pop(name) for name in list(kwargs) if name.startswith("retry_")}
        retry.setdefault("retry_total", 3)
        retry.setdefault("retry_backoff_factor", 0.5)
        retry.setdefault("retry_backoff_max", 8)
        kwargs["retry_policy"] = _BoundedRetryPolicy(max_retry_after=kwargs.pop("max_retry_after_seconds", 10.0), **retry)
    return kwargs


def _payload(message: EmailMessage, from_address: str) -> dict[str, Any]:
    content: dict[str, str] = {"subject": message.subject, "plainText": message.text}
    if message.html:
        content["html"] = message.html
    return {
        "senderAddress": from_address,
        "recipients": {"to": [{"address": message.to}]},
        "content": content,
        # No open/click tracking in clinical notification emails.
        "userEngagementTrackingDisabled": True,
    }


def _status_and_code(err: HttpResponseError) -> tuple[int | None, str | None]:
    code = getattr(err, "error", None) and getattr(err.error, "code", None)
    if not code and err.response is not None:
        code = cast(Any, err.response).headers.get("x-ms-error-code")
    return err.status_code, code
