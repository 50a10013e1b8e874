"""AcsEmailSender: the real azure-communication-email SDK against a local HTTPS fake of the ACS
email REST API that checks HMAC-SHA256 access-key signatures as ACS does."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator

import pytest
from azure.communication.email import EmailClient
from azure.core.exceptions import ClientAuthenticationError

from shared_code.adapters.acs_email import AcsEmailSender, EmailRejected, operation_id_for
from shared_code.ports import DependencyUnavailable, EmailMessage
from tests.support.fake_acs import FakeAcsEmailService, content_sha256

FROM = "DoNotReply@skinvault.example.nhs.uk"
RECIPIENT = "derm-clinic@trust.example.nhs.uk"


def a_message(**overrides) -> EmailMessage:
    fields = {
        "to": RECIPIENT,
        "subject": "New photos to review for case C-2207",
        "text": "A patient shared new photos with your clinic. Sign in to review them.",
        "html": "<p>A patient shared new photos with your clinic.</p>",
        "message_id": "notif-C-2207-0001",
    }
    fields.update(overrides)
    return EmailMessage(**fields)


@pytest.fixture
def acs(tmp_path) -> Iterator[FakeAcsEmailService]:
    service = FakeAcsEmailService(workdir=tmp_path).start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def make_sender(acs: FakeAcsEmailService) -> Iterator[Callable[..., AcsEmailSender]]:
    made: list[AcsEmailSender] = []

    def make(access_key: str | None = None, **kwargs) -> AcsEmailSender:
        kwargs.setdefault("send_timeout_seconds", 5)
        kwargs.setdefault("poll_interval_seconds", 0.05)
        kwargs.setdefault("retry_backoff_factor", 0.01)
        sender = AcsEmailSender.from_connection_string(acs.connection_string(access_key), FROM, connection_verify=str(acs.cert_path), **kwargs)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close()


def raw_client(acs: FakeAcsEmailService, **kwargs) -> EmailClient:
    return EmailClient.from_connection_string(acs.connection_string(), connection_verify=str(acs.cert_path), retry_total=0, **kwargs)


def raw_payload() -> dict:
    return {
        "senderAddress": FROM,
        "recipients": {"to": [{"address": RECIPIENT}]},
        "content": {"subject": "s", "plainText": "t"},
    }


# ---------------------------------------------------------------- delivery and deduplication
def test_message_is_delivered_with_subject_text_html_and_recipient(acs, make_sender) -> None:
    message = a_message()

    make_sender().send(message)

    [email] = acs.accepted
    assert email.sender == FROM
    assert email.to == (RECIPIENT,)
    assert email.subject == message.subject
    assert email.plain_text == message.text
    assert email.html == message.html
    assert email.body["userEngagementTrackingDisabled"] is True
    assert email.operation_id == operation_id_for(message.message_id)
    assert acs.operation_status(email.operation_id) == "Succeeded"
    assert [(r.method, r.status) for r in acs.seen] == [("POST", 202), ("GET", 200)]


def test_text_only_message_is_sent_without_html(acs, make_sender) -> None:
    make_sender().send(a_message(html=None))

    [email] = acs.accepted
    assert email.html is None
    assert "html" not in email.body["content"]


def test_resending_the_same_message_id_does_not_send_a_second_email(acs, make_sender) -> None:
    sender = make_sender()

    sender.send(a_message())
    sender.send(a_message())  # e.g. the queue message was delivered again
    make_sender().send(a_message())  # or another worker picked it up

    assert len(acs.accepted) == 1
    assert acs.statuses("POST") == [202, 202, 202]


def test_different_message_ids_are_different_emails(acs, make_sender) -> None:
    sender = make_sender()

    sender.send(a_message(message_id="notif-1"))
    sender.send(a_message(message_id="notif-2"))

    assert [e.operation_id for e in acs.accepted] == [operation_id_for("notif-1"), operation_id_for("notif-2")]


def test_retry_while_the_first_attempt_is_still_running_waits_for_it_instead_of_resending(acs, make_sender) -> None:
    acs.polls_before_done = 3
    message = a_message()
    # An earlier attempt (say, a worker that timed out) left the operation running at ACS.
    with raw_client(acs) as client:
        client.begin_send(raw_payload(), operation_id=operation_id_for(message.message_id), polling=False)

    make_sender().send(message)

    assert len(acs.accepted) == 1
    assert acs.statuses("POST") == [202, 409]
    assert acs.operation_status(operation_id_for(message.message_id)) == "Succeeded"


def test_message_without_id_is_refused_because_it_could_be_sent_twice(acs, make_sender) -> None:
    with pytest.raises(ValueError, match="message_id"):
        make_sender().send(a_message(message_id=""))

    assert acs.seen == []


# ---------------------------------------------------------------- failures
def test_wrong_access_key_raises_and_the_server_answered_401(acs, make_sender) -> None:
    wrong_key = FakeAcsEmailService().access_key  # a valid base64 key, just not this resource's

    with pytest.raises(DependencyUnavailable) as raised:
        make_sender(access_key=wrong_key).send(a_message())

    assert raised.value.dependency == "email"
    assert acs.accepted == []
    assert [(r.status, r.reason) for r in acs.seen] == [(401, "InvalidSignature")]


def test_service_unavailable_503_maps_to_dependency_unavailable(acs, make_sender) -> None:
    acs.fail_next(10, status=503)

    with pytest.raises(DependencyUnavailable):
        make_sender(retry_total=1).send(a_message())

    assert acs.accepted == []
    assert acs.statuses("POST") == [503, 503]  # one try + one SDK retry, then the queue retries


def test_a_single_503_is_retried_by_the_sdk_and_the_email_sent_once(acs, make_sender) -> None:
    acs.fail_next(1, status=503)

    make_sender().send(a_message())

    assert len(acs.accepted) == 1
    assert acs.statuses() == [503, 202, 200]


def test_throttling_429_without_retry_after_maps_to_dependency_unavailable_and_a_later_retry_sends_once(acs, make_sender) -> None:
    acs.fail_next(1, status=429)
    sender = make_sender()

    with pytest.raises(DependencyUnavailable):
        sender.send(a_message())
    assert acs.accepted == []

    sender.send(a_message())  # the queue trigger's retry

    assert len(acs.accepted) == 1
    assert acs.statuses("POST") == [429, 202]


def test_a_short_retry_after_on_429_is_waited_out_by_the_sdk_and_the_email_sent_once(acs, make_sender) -> None:
    acs.fail_next(1, status=429, retry_after=1)

    make_sender().send(a_message())

    assert len(acs.accepted) == 1
    assert acs.statuses() == [429, 202, 200]


def test_a_long_retry_after_is_not_slept_through_but_handed_back_to_the_queue(acs, make_sender) -> None:
    acs.fail_next(1, status=429, retry_after=600)

    with pytest.raises(DependencyUnavailable, match="429"):
        make_sender(max_retry_after_seconds=5).send(a_message())

    assert acs.statuses() == [429]


def test_invalid_recipient_is_rejected_as_not_retryable(acs, make_sender) -> None:
    with pytest.raises(EmailRejected) as raised:
        make_sender().send(a_message(to="not-an-email-address"))

    assert raised.value.status == 400
    assert raised.value.message_id == "notif-C-2207-0001"
    assert not isinstance(raised.value, DependencyUnavailable)
    assert acs.accepted == []
    assert acs.statuses("POST") == [400]  # no SDK retry of a rejected message


def test_operation_that_ends_failed_maps_to_dependency_unavailable(acs, make_sender) -> None:
    acs.fail_operations = True

    with pytest.raises(DependencyUnavailable):
        make_sender().send(a_message())

    assert acs.operation_status(operation_id_for("notif-C-2207-0001")) == "Failed"


def test_send_not_confirmed_within_the_timeout_maps_to_dependency_unavailable(acs, make_sender) -> None:
    acs.polls_before_done = 10**6  # never finishes

    with pytest.raises(DependencyUnavailable, match="not confirmed"):
        make_sender(send_timeout_seconds=0.3, poll_interval_seconds=0.05).send(a_message())

    assert acs.operation_status(operation_id_for("notif-C-2207-0001")) == "Running"


def test_unreachable_endpoint_maps_to_dependency_unavailable(tmp_path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake = FakeAcsEmailService()
    sender = AcsEmailSender.from_connection_string(
        f"endpoint=https://127.0.0.1:{port}/;accesskey={fake.access_key}", FROM, retry_total=0, connection_timeout=2
    )
    with sender, pytest.raises(DependencyUnavailable):
        sender.send(a_message())


def test_logs_name_the_message_id_but_never_the_recipient_or_content(acs, make_sender, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    sender = make_sender()
    message = a_message()

    sender.send(message)
    with pytest.raises(EmailRejected) as raised:
        sender.send(a_message(to="patient name <bad", message_id="notif-bad-1"))

    assert message.message_id in caplog.text
    assert "notif-bad-1" in caplog.text
    for secret in (RECIPIENT, message.subject, message.text, message.html, "patient name", acs.access_key):
        assert secret not in caplog.text
        assert secret not in str(raised.value)


# ---------------------------------------------------------------- the fake really checks HMAC
def test_hmac_check_rejects_a_body_changed_after_signing(acs) -> None:
    def tamper(request) -> None:  # runs after the SDK signed the request: a man in the middle
        request.http_request.body = request.http_request.body.replace(RECIPIENT, RECIPIENT.replace("derm", "evil"))

    with raw_client(acs, raw_request_hook=tamper) as client, pytest.raises(ClientAuthenticationError):
        client.begin_send(raw_payload())

    assert acs.accepted == []
    assert [(r.status, r.reason) for r in acs.seen] == [(401, "ContentHashMismatch")]


def test_hmac_check_rejects_a_changed_body_even_with_a_recomputed_content_hash(acs) -> None:
    def tamper(request) -> None:
        body = request.http_request.body.replace(RECIPIENT, RECIPIENT.replace("derm", "evil"))
        request.http_request.body = body
        request.http_request.headers["x-ms-content-sha256"] = content_sha256(body.encode("utf-8"))

    with raw_client(acs, raw_request_hook=tamper) as client, pytest.raises(ClientAuthenticationError):
        client.begin_send(raw_payload())

    assert acs.accepted == []
    assert [(r.status, r.reason) for r in acs.seen] == [(401, "InvalidSignature")]


def test_hmac_check_rejects_an_old_signed_date(acs) -> None:
    def backdate(request) -> None:  # an old x-ms-date (a replayed capture) fails even before the signature
        request.http_request.headers["x-ms-date"] = "Mon, 01 Jan 2024 00:00:00 GMT"

    with raw_client(acs, raw_request_hook=backdate) as client, pytest.raises(ClientAuthenticationError):
        client.begin_send(raw_payload())

    assert [(r.status, r.reason) for r in acs.seen] == [(401, "RequestTimeSkewed")]


def test_unsigned_request_is_rejected(acs) -> None:
    def strip(request) -> None:
        del request.http_request.headers["Authorization"]

    with raw_client(acs, raw_request_hook=strip) as client, pytest.raises(ClientAuthenticationError):
        client.begin_send(raw_payload())

    assert [(r.status, r.reason) for r in acs.seen] == [(401, "MissingAuthenticationHeaders")]
