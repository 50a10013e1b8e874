"""Helpers for the clinic-patient conversation tests: invitation codes from emails, the timer."""

from __future__ import annotations

import re
from typing import Any

from tests.support.functions_client import all_functions
from tests.support.library_helpers import deliver_all

INVITE_LINK = re.compile(r"/app/\?invite=([A-Za-z0-9_-]+)")


def invitation_code(client: Any) -> str:
    """Deliver the queued notifications; the code in the newest invitation email's link."""
    deliver_all(client)
    for mail in reversed(client.services.email.sent):
        found = INVITE_LINK.search(mail.text)
        if found:
            return found.group(1)
    raise AssertionError("no invitation email was sent")


def reminder_timer() -> Any:
    """The timer-triggered `send_due_reminders` as registered on function_app.app."""
    (fn,) = [f for f in all_functions() if f.get_function_name() == "send_due_reminders"]
    return fn.get_user_function()
