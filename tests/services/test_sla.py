"""Working days for the help requests' service levels: weekends do not count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.sla import working_days_before


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)  # 23 November 2026 is a Monday


@pytest.mark.parametrize(
    ("now", "days", "expected"),
    [
        (at(25), 2, at(23)),  # Wednesday -> Monday
        (at(23), 1, at(20)),  # Monday -> the Friday before, same hour
        (at(24), 2, at(20)),  # Tuesday -> Friday
        (at(28, 15), 2, at(26, 0)),  # Saturday: the clock stopped at Friday midnight
        (at(29, 15), 1, at(27, 0)),  # Sunday likewise
        (at(23), 10, at(9)),  # two full weeks
        (at(23), 0, at(23)),
    ],
)
def test_working_days_before_skips_the_weekend(
    now: datetime, days: int, expected: datetime
) -> None:
    assert working_days_before(now, days) == expected


def test_a_request_from_thursday_is_not_overdue_on_saturday() -> None:
    thursday = at(26, 10)
    assert not thursday <= working_days_before(at(28, 12), 2)
    assert thursday <= working_days_before(at(30, 10), 2)  # Monday 10:00: two working days
