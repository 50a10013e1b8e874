"""NCRONTAB schedules (six fields, seconds first, UTC) as the timer trigger reads them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from localhost.ncrontab import Schedule, ScheduleError

NOON = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 */5 * * * *", NOON, datetime(2026, 12, 2, 12, 5, 0, tzinfo=UTC)),
        ("*/10 * * * * *", datetime(2026, 12, 2, 12, 0, 3, 500, tzinfo=UTC), datetime(2026, 12, 2, 12, 0, 10, tzinfo=UTC)),
        ("0 30 9 * * *", NOON, datetime(2026, 12, 3, 9, 30, 0, tzinfo=UTC)),
        ("0 0 8 * * Mon-Fri", datetime(2026, 12, 4, 9, 0, tzinfo=UTC), datetime(2026, 12, 7, 8, 0, tzinfo=UTC)),  # Fri -> Mon
        ("0 0 0 1 Jan *", NOON, datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
        ("0 15,45 2 * * 0", NOON, datetime(2026, 12, 6, 2, 15, tzinfo=UTC)),  # Sunday
        ("0 0 0 29 2 *", NOON, datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),
        ("5/20 0 12 * * *", NOON, datetime(2026, 12, 2, 12, 0, 5, tzinfo=UTC)),
    ],
)
def test_next_occurrence_is_the_first_matching_second_after(expression, after, expected):
    schedule = Schedule.parse(expression)
    assert schedule.next_after(after) == expected
    assert schedule.matches(expected)


def test_a_matching_second_is_not_its_own_next_occurrence():
    schedule = Schedule.parse("0 0 * * * *")
    assert schedule.next_after(NOON) == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression",
    ["* * * * *", "0 60 * * * *", "0 0 24 * * *", "0 0 0 0 * *", "0 0 0 * 13 *", "0 0 0 * * 7", "0 5-1 * * * *", "*/0 * * * * *", "00:05:00"],
)
def test_what_the_host_would_refuse_is_refused(expression):
    with pytest.raises(ScheduleError):
        Schedule.parse(expression)


def test_a_date_that_never_comes_is_an_error():
    with pytest.raises(ScheduleError, match="never occurs"):
        Schedule.parse("0 0 0 31 2 *").next_after(NOON)
