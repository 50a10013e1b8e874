"""EmailSender adapter for local runs: one RFC 5322 .eml file per message in an outbox folder.

Idempotent: the file name comes from the message's `message_id`, and a message is published with
a no-replace link of a fully written temporary file, so a repeated send (queue redelivery, a
second worker) leaves exactly one file, and readers never see a half-written one. Temporary files
start with "." and do not end in ".eml".
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from shared_code.ports import Clock, EmailMessage

logger = logging.getLogger(__name__)

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
MESSAGE_ID_HEADER = "X-SkinVault-Message-Id"


def outbox_token(message_id: str) -> str:
    """File-name and Message-ID safe form of a message id (stable across runs)."""
    if _SAFE_ID.fullmatch(message_id) and not message_id.endswith("."):
        return message_id
    return "h-" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()


class OutboxEmailSender:
    """EmailSender that writes `<outbox>/<message id>.eml` instead of sending."""

    def __init__(self, folder: str | os.PathLike[str], from_address: str, *, clock: Clock | None = None) -> None:
        self._folder = Path(folder)
        self._from_address = from_address
        self._clock = clock
        self._domain = from_address.rpartition("@")[2] or "skinvault.local"

    @property
    def folder(self) -> Path:
        return self._folder

    def path_for(self, message_id: str) -> Path:
        return self._folder / f"{outbox_token(message_id)}.eml"

    def send(self, message: EmailMessage) -> None:
        if not message.message_id:
            raise ValueError("EmailMessage.message_id is required: it is what stops duplicate sends")
        final = self.path_for(message.message_id)
        if final.exists():
            logger.info("email already in outbox: message_id=%s", message.message_id)
            return
        data = self._render(message)  # before touching the disk: a bad header raises here
        self._folder.mkdir(parents=True, exist_ok=True)
        tmp = self._folder / f".{final.stem}.{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "xb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if _publish_without_replacing(tmp, final):
                logger.info("email written to outbox: message_id=%s", message.message_id)
            else:
                logger.info("email already in outbox: message_id=%s", message.message_id)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _render(self, message: EmailMessage) -> bytes:
        now = self._clock.now() if self._clock is not None else datetime.now(UTC)
        mime = MimeMessage()
        mime["From"] = self._from_address
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = format_datetime(now.astimezone(UTC), usegmt=True)
        mime["Message-ID"] = f"<{outbox_token(message.message_id)}@{self._domain}>"
        mime[MESSAGE_ID_HEADER] = message.message_id
        mime.set_content(message.text)
        if message.html:
            mime.add_alternative(message.html, subtype="html")
        return mime.as_bytes(policy=SMTP)  # CRLF line endings, as RFC 5322 files have


def _publish_without_replacing(tmp: Path, final: Path) -> bool:
    """Atomically make `tmp` visible as `final` unless `final` exists. True when we published it."""
    try:
        os.link(tmp, final)  # atomic, and fails rather than overwrite
        return True
    except FileExistsError:
        return False
    except OSError:
        # File systems without hard links: rename is still atomic; the existence check narrows
        # the window in which a concurrent writer of the same message could be replaced (with
        # the same content).
        if final.exists():
            return False
        os.replace(tmp, final)
        return True
