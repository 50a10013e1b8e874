"""Pure rules of the clinic-patient conversation: outcome texts, reminder dates, invitation states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared_code.domain.conversation import (
    OUTCOME_TEXT,
    add_months,
    following_due,
    invitation_state,
    next_due,
    sharing_end_still_shown,
    valid_email,
)
from shared_code.services.cases import TRIAGE_OUTCOMES

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_every_triage_outcome_has_plain_english_for_the_patient():
    assert set(OUTCOME_TEXT) == set(TRIAGE_OUTCOMES)
    for text in OUTCOME_TEXT.values():
        assert text.endswith(".") and "excision" not in text.lower() and "referral" not in text.lower()


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2027, 1, 31, 9, tzinfo=UTC), 1, datetime(2027, 2, 28, 9, tzinfo=UTC)),
        (datetime(2028, 1, 31, 9, tzinfo=UTC), 1, datetime(2028, 2, 29, 9, tzinfo=UTC)),
        (datetime(2026, 12, 15, 9, tzinfo=UTC), 1, datetime(2027, 1, 15, 9, tzinfo=UTC)),
        (datetime(2026, 3, 31, 9, tzinfo=UTC), 13, datetime(2027, 4, 30, 9, tzinfo=UTC)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(start, months, expected):
    assert add_months(start, months) == expected


def test_next_due_for_each_schedule():
    assert next_due(NOW, "1w") == NOW + timedelta(weeks=1)
    assert next_due(NOW, "2w") == NOW + timedelta(weeks=2)
    assert next_due(NOW, "4w") == NOW + timedelta(weeks=4)
    assert next_due(NOW, "1m") == datetime(2026, 12, 27, 10, 0, tzinfo=UTC)


def test_following_due_skips_dates_already_missed():
    due = NOW - timedelta(days=30)
    assert following_due(due, "1w", NOW) == due + timedelta(weeks=5)
    assert following_due(NOW, "2w", NOW) == NOW + timedelta(weeks=2)


def test_invitation_states():
    base = {"expiresAt": "2026-12-11T10:00:00Z"}
    assert invitation_state(base, NOW) == "pending"
    assert invitation_state({**base, "acceptedBy": "pt-1"}, NOW) == "accepted"
    assert invitation_state({**base, "acceptedBy": "pt-1", "completedAt": "x"}, NOW + timedelta(days=30)) == "completed"
    assert invitation_state({**base, "cancelledAt": "x"}, NOW) == "cancelled"
    assert invitation_state(base, datetime(2026, 12, 11, 10, 0, tzinfo=UTC)) == "expired"
    assert invitation_state({**base, "acceptedBy": "pt-1"}, NOW + timedelta(days=15)) == "expired"


def test_a_case_whose_sharing_ended_is_shown_for_30_days():
    assert sharing_end_still_shown("2026-11-01T10:00:00Z", NOW)
    assert not sharing_end_still_shown("2026-10-28T10:00:00Z", NOW)


@pytest.mark.parametrize(
    ("value", "ok"),
    [("a@b.org", True), ("first.last@nhs.net", True), ("nobody", False), ("@b.org", False), ("a@b", False), ("a b@c.org", False), ("a@.org", False)],
)
def test_valid_email(value, ok):
    assert valid_email(value) is ok
