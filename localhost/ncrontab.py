"""NCRONTAB schedules as the Functions timer trigger reads them: six fields, seconds first, UTC.

    {second} {minute} {hour} {day} {month} {day-of-week}     e.g. "0 */5 * * * *", "0 30 9 * * Mon-Fri"

Each field is ``*``, a value, a range ``a-b``, a step ``*/n``, ``a-b/n`` or ``a/n``, or a comma list
of those; months and days of the week also by their English three-letter names. As in the NCrontab
library the host uses, a time matches when every field matches (day of month AND day of week).
The TimeSpan form (``hh:mm:ss``) is refused: the Flex Consumption plan does not run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_MONTHS = {n: i for i, n in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_DAYS = {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (name, lowest, highest, names)
_FIELDS = (
    ("second", 0, 59, {}),
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 6, _DAYS),
)
_SEARCH_LIMIT = timedelta(days=366 * 5)


class ScheduleError(ValueError):
    """Not a six-field NCRONTAB expression the timer trigger accepts."""


def _value(text: str, lo: int, hi: int, names: dict[str, int], field: str) -> int:
    number = names.get(text.lower()) if names else None
    if number is None:
        if not text.isdigit():
            raise ScheduleError(f"{field}: '{text}' is not a number{' or a name' if names else ''}")
        number = int(text)
    if not lo <= number <= hi:
        raise ScheduleError(f"{field}: {number} is outside {lo}-{hi}")
    return number


def _field(text: str, lo: int, hi: int, names: dict[str, int], field: str) -> frozenset[int]:
    allowed: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"{field}: step '{step_text}' must be a positive number")
            step = int(step_text)
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _value(first, lo, hi, names, field), _value(last, lo, hi, names, field)
            if start > end:
                raise ScheduleError(f"{field}: range '{base}' runs backwards")
        else:
            start = _value(base, lo, hi, names, field)
            end = hi if step_text else start
        allowed.update(range(start, end + 1, step))
    return frozenset(allowed)


@dataclass(frozen=True)
class Schedule:
    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        parts = expression.split()
        if len(parts) != 6:
            raise ScheduleError(f"'{expression}' has {len(parts)} fields; NCRONTAB needs 6 (second minute hour day month day-of-week)")
        sets = [_field(p, lo, hi, names, name) for p, (name, lo, hi, names) in zip(parts, _FIELDS, strict=True)]
        return cls(expression, *sets)

    def matches(self, moment: datetime) -> bool:
        return (
            moment.second in self.seconds
            and moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.day in self.days
            and moment.month in self.months
            and (moment.isoweekday() % 7) in self.weekdays
        )

    def next_after(self, after: datetime) -> datetime:
        """The first whole second strictly after `after` (UTC) that the schedule names."""
        t = after.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        limit = t + _SEARCH_LIMIT
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0)
            elif t.day not in self.days or (t.isoweekday() % 7) not in self.weekdays:
                t = (t + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            elif t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0, second=0)
            elif t.minute not in self.minutes:
                t = (t + timedelta(minutes=1)).replace(second=0)
            elif t.second not in self.seconds:
                t += timedelta(seconds=1)
            else:
                return t
        raise ScheduleError(f"'{self.expression}' never occurs")
