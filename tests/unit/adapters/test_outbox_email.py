"""OutboxEmailSender: real files in a tmp folder, parsed back with the stdlib email parser."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from shared_code.adapters.outbox_email import MESSAGE_ID_HEADER, OutboxEmailSender
from shared_code.ports import EmailMessage

FROM = "notifications@skinvault.example.nhs.uk"


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


def parse(path: Path):
    with open(path, "rb") as fh:
        return BytesParser(policy=policy.default).parse(fh)


def outbox_files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def a_message(**overrides) -> EmailMessage:
    fields = {
        "to": "clinic-inbox@trust.example.nhs.uk",
        "subject": "New photos to review – case C-1042",
        "text": "A patient shared new photos with your clinic. Sign in to review them.\nRef: C-1042 é",
        "html": "<p>A patient shared new photos with your clinic. <a href='https://skinvault.example/clinic'>Sign in</a></p>",
        "message_id": "notif-C-1042-20240601T1000",
    }
    fields.update(overrides)
    return EmailMessage(**fields)


def test_eml_parses_back_with_headers_text_and_html(tmp_path: Path) -> None:
    sent_at = datetime(2024, 6, 1, 10, 30, 15, tzinfo=UTC)
    sender = OutboxEmailSender(tmp_path / "outbox", FROM, clock=FixedClock(sent_at))
    message = a_message()

    sender.send(message)

    [eml] = outbox_files(tmp_path / "outbox")
    assert eml.name == f"{message.message_id}.eml"
    assert b"\r\n" in eml.read_bytes(), "RFC 5322 files use CRLF line endings"
    parsed = parse(eml)
    assert parsed["From"] == FROM
    assert parsed["To"] == message.to
    assert parsed["Subject"] == message.subject
    assert parsedate_to_datetime(parsed["Date"]) == sent_at
    assert parsed["Message-ID"] == f"<{message.message_id}@skinvault.example.nhs.uk>"
    assert parsed[MESSAGE_ID_HEADER] == message.message_id
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().rstrip("\n") == message.text
    assert parsed.get_body(("html",)).get_content().rstrip("\n") == message.html


def test_text_only_message_is_a_single_plain_part(tmp_path: Path) -> None:
    sender = OutboxEmailSender(tmp_path, FROM)
    message = a_message(html=None)

    sender.send(message)

    parsed = parse(sender.path_for(message.message_id))
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content().rstrip("\n") == message.text
    assert abs(parsedate_to_datetime(parsed["Date"]) - datetime.now(UTC)) < timedelta(minutes=1)


def test_same_message_id_sent_twice_leaves_one_unchanged_file(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2024, 6, 1, 10, 0, tzinfo=UTC))
    sender = OutboxEmailSender(tmp_path, FROM, clock=clock)
    message = a_message()
    sender.send(message)
    first = sender.path_for(message.message_id).read_bytes()

    clock.current += timedelta(hours=1)  # a redelivered queue message, later
    sender.send(message)
    sender.send(a_message(subject="A different rendering of the same notification"))

    assert outbox_files(tmp_path) == [sender.path_for(message.message_id)]
    assert sender.path_for(message.message_id).read_bytes() == first


def test_different_message_ids_give_different_files(tmp_path: Path) -> None:
    sender = OutboxEmailSender(tmp_path, FROM)

    sender.send(a_message(message_id="notif-1"))
    sender.send(a_message(message_id="notif-2"))

    assert [p.name for p in outbox_files(tmp_path)] == ["notif-1.eml", "notif-2.eml"]


def test_concurrent_sends_of_the_same_message_write_one_file_and_no_temp_files(tmp_path: Path) -> None:
    sender = OutboxEmailSender(tmp_path / "outbox", FROM)
    message = a_message()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait()
            sender.send(message)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    [eml] = outbox_files(tmp_path / "outbox")
    assert eml.name == f"{message.message_id}.eml"
    assert parse(eml)["Subject"] == message.subject


def test_outbox_folder_is_created_when_missing(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet" / "there"
    sender = OutboxEmailSender(folder, FROM)

    sender.send(a_message())

    assert len(outbox_files(folder)) == 1


def test_unsafe_message_id_gets_a_stable_file_name_inside_the_outbox(tmp_path: Path) -> None:
    sender = OutboxEmailSender(tmp_path / "outbox", FROM)
    message = a_message(message_id="../../etc/case:1042/new photos")

    sender.send(message)
    sender.send(message)

    [eml] = outbox_files(tmp_path / "outbox")
    assert eml.parent == tmp_path / "outbox"
    assert eml == sender.path_for(message.message_id)
    assert "/" not in eml.name and ".." not in eml.stem
    parsed = parse(eml)
    assert parsed[MESSAGE_ID_HEADER] == message.message_id
    assert parsed["Message-ID"] == f"<{eml.stem}@skinvault.example.nhs.uk>"


def test_header_injection_in_subject_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    sender = OutboxEmailSender(tmp_path / "outbox", FROM)

    with pytest.raises(ValueError):
        sender.send(a_message(subject="New photos\r\nBcc: someone@elsewhere.example"))

    assert not (tmp_path / "outbox").exists() or outbox_files(tmp_path / "outbox") == []


def test_message_without_id_is_refused_because_it_could_be_sent_twice(tmp_path: Path) -> None:
    sender = OutboxEmailSender(tmp_path, FROM)

    with pytest.raises(ValueError, match="message_id"):
        sender.send(a_message(message_id=""))

    assert outbox_files(tmp_path) == []
