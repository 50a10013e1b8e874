"""Email addresses and what goes into an email. Pure.

An address is refused when it holds a control character (CR/LF would let it add mail headers),
whitespace or anything outside a plain ASCII `local@domain.tld`. Every value put into an email's
HTML is escaped (`html_text`), so a clinic name can never carry a live link or markup.
"""

from __future__ import annotations

import html
import re

from shared_code.domain.errors import RuleViolation

MAX_LENGTH = 254
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
_ADDRESS_RE = re.compile(rf"^{_LOCAL}@{_DOMAIN}$")


def has_control_characters(value: str) -> bool:
    return any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029" for ch in value)


def is_email_address(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= MAX_LENGTH
        and not has_control_characters(value)
        and _ADDRESS_RE.fullmatch(value) is not None
        and len(value.split("@", 1)[0]) <= 64
    )


def check_email_address(value: str, field: str = "email") -> str:
    """The address, trimmed; RuleViolation (422) naming the field otherwise. Never echoes the value."""
    if not isinstance(value, str) or has_control_characters(value):
        raise RuleViolation(f"{field} must be an email address without control characters.")
    cleaned = value.strip()
    if not is_email_address(cleaned):
        raise RuleViolation(f"{field} must be an email address like name@example.org.")
    return cleaned


def html_text(value: object) -> str:
    """Text for an email's HTML body or attribute: every markup character escaped."""
    return html.escape(str(value), quote=True)
