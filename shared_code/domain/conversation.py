"""The clinic's answer to the patient, photo requests and reminders: the rules, no I/O.

What a patient reads about a triage outcome is plain English kept here, next to the outcome codes;
the clinic's internal note is never part of it. Reminder schedules and invitation lifetimes are
pure date arithmetic.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Any

from shared_code.domain.common import parse_instant

# outcome code -> what the patient reads (no jargon, no alarm beyond what the outcome means)
OUTCOME_TEXT = {
    "list-for-excision": "Your clinic would like to remove the area you photographed. They will contact you to arrange an appointment.",
    "sun-damage-treatment-follow-up": "Your clinic has found signs of sun damage. They will contact you about treatment and a follow-up.",
    "routine-follow-up": "Your clinic has looked at your photos and will arrange a routine follow-up.",
    "urgent-suspected-cancer-referral": "Your clinic would like to see you soon. They will contact you shortly to arrange an appointment. "
    "If you have not heard from them within 2 weeks, please call them.",
    "discharge": "Your clinic has looked at your photos and does not need to see you. If anything changes or you are worried, contact your GP.",
    "request-more-photos": "Your clinic would like more photos. Please take new photos in the app and share them.",
}

REMINDER_SCHEDULES = ("1w", "2w", "4w", "1m")  # every 1, 2 or 4 weeks, or monthly
REMINDER_LABELS = {"1w": "every week", "2w": "every 2 weeks", "4w": "every 4 weeks", "1m": "every month"}
INVITATION_LIFETIME = timedelta(days=14)
SHARING_ENDED_KEPT_FOR = timedelta(days=30)

# invitation states
PENDING, ACCEPTED, COMPLETED, CANCELLED, EXPIRED = "pending", "accepted", "completed", "cancelled", "expired"


def outcome_text(outcome: str) -> str:
    return OUTCOME_TEXT[outcome]


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later; the 31st becomes the last day of a shorter month."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def next_due(after: datetime, every: str) -> datetime:
    """The due date one interval after `after`."""
    if every == "1m":
        return add_months(after, 1)
    weeks = {"1w": 1, "2w": 2, "4w": 4}[every]
    return after + timedelta(weeks=weeks)


def following_due(due: datetime, every: str, now: datetime) -> datetime:
    """The first due date after `due` that is later than now (a missed date is not sent late twice)."""
    nxt = next_due(due, every)
    while nxt <= now:
        nxt = next_due(nxt, every)
    return nxt


def invitation_state(invitation: dict[str, Any], now: datetime) -> str:
    if invitation.get("completedAt"):
        return COMPLETED
    if invitation.get("cancelledAt"):
        return CANCELLED
    if parse_instant(invitation["expiresAt"]) <= now:
        return EXPIRED
    if invitation.get("acceptedBy"):
        return ACCEPTED
    return PENDING


def sharing_end_still_shown(ended_at: str, now: datetime) -> bool:
    """A case whose patient stopped sharing stays on the worklist (without photos) for 30 days."""
    return parse_instant(ended_at) + SHARING_ENDED_KEPT_FOR > now


def valid_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain and not domain.startswith(".") and not domain.endswith(".") and " " not in value)
