"""Consent and sharing rules (shared_code/domain/sharing.py): pure, no ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared_code.domain.errors import RuleViolation
from shared_code.domain.sharing import ACTIVE, EXPIRED, MAX_EXPIRY, REVOKED, check_grant, covers_folder, share_state

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def share(expires_at: datetime, revoked_at: str | None = None, **fields) -> dict:
    return {"expiresAt": expires_at.isoformat().replace("+00:00", "Z"), "revokedAt": revoked_at, **fields}


@pytest.mark.parametrize(
    "purposes",
    [["direct-care"], ["direct-care", "teaching"], ["research", "direct-care"], ["direct-care", "teaching", "research"]],
)
def test_any_known_purposes_including_direct_care_are_accepted(purposes):
    check_grant(purposes, NOW + timedelta(days=30), NOW)


@pytest.mark.parametrize("purposes", [[], ["teaching"], ["research"], ["teaching", "research"]])
def test_purposes_without_direct_care_are_refused_with_the_reason(purposes):
    with pytest.raises(RuleViolation, match="direct-care"):
        check_grant(purposes, NOW + timedelta(days=30), NOW)


@pytest.mark.parametrize("purposes", [["direct-care", "marketing"], ["direct-care", "Teaching"], ["direct-care", ""]])
def test_unknown_purposes_are_refused_with_the_reason(purposes):
    with pytest.raises(RuleViolation, match="purposes can only be"):
        check_grant(purposes, NOW + timedelta(days=30), NOW)


@pytest.mark.parametrize(
    "ahead",
    [timedelta(days=1), timedelta(days=1) - timedelta(minutes=4), timedelta(days=365), MAX_EXPIRY],
    ids=["one-day", "one-day-less-clock-skew", "one-year", "ten-years"],
)
def test_expiry_from_one_day_to_ten_years_ahead_is_accepted(ahead):
    check_grant(["direct-care"], NOW + ahead, NOW)


@pytest.mark.parametrize(
    ("ahead", "reason"),
    [
        (-timedelta(days=1), "at least one day"),
        (timedelta(0), "at least one day"),
        (timedelta(hours=23), "at least one day"),
        (MAX_EXPIRY + timedelta(seconds=1), "ten years"),
        (timedelta(days=36500), "ten years"),
    ],
    ids=["past", "now", "23-hours", "just-over-ten-years", "a-century"],
)
def test_expiry_outside_one_day_to_ten_years_is_refused(ahead, reason):
    with pytest.raises(RuleViolation, match=reason):
        check_grant(["direct-care"], NOW + ahead, NOW)


def test_ten_years_allows_for_leap_days():
    assert MAX_EXPIRY >= datetime(2036, 11, 27, tzinfo=UTC) - datetime(2026, 11, 27, tzinfo=UTC)


def test_share_is_active_until_the_instant_it_expires():
    s = share(NOW + timedelta(days=1))
    assert share_state(s, NOW) == ACTIVE
    assert share_state(s, NOW + timedelta(days=1) - timedelta(microseconds=1)) == ACTIVE
    assert share_state(s, NOW + timedelta(days=1)) == EXPIRED
    assert share_state(s, NOW + timedelta(days=400)) == EXPIRED


def test_revocation_wins_over_expiry():
    assert share_state(share(NOW + timedelta(days=1), revoked_at="2026-11-27T09:00:00Z"), NOW) == REVOKED
    assert share_state(share(NOW - timedelta(days=1), revoked_at="2026-11-25T09:00:00Z"), NOW) == REVOKED


def test_expiry_with_an_offset_is_compared_as_an_instant():
    s = {"expiresAt": "2026-11-28T11:00:00+01:00", "revokedAt": None}  # 10:00Z
    assert share_state(s, datetime(2026, 11, 28, 9, 59, tzinfo=UTC)) == ACTIVE
    assert share_state(s, datetime(2026, 11, 28, 10, 0, tzinfo=UTC)) == EXPIRED


def test_share_covers_named_folders_or_all_folders():
    named = share(NOW, folderIds=["fld-1", "fld-2"], allFolders=False)
    assert covers_folder(named, "fld-1") and covers_folder(named, "fld-2")
    assert not covers_folder(named, "fld-3")
    everything = share(NOW, folderIds=None, allFolders=True)
    assert covers_folder(everything, "fld-anything")
    nothing = share(NOW, folderIds=None, allFolders=False)
    assert not covers_folder(nothing, "fld-1")
