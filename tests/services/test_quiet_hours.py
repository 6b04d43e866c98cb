"""Quiet hours: evenings, nights and weekends in Amsterdam, through daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from services.quiet_hours import QuietHours

AMSTERDAM = QuietHours()


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (datetime(2026, 12, 1, 7, 59, tzinfo=UTC), False),  # Tuesday 08:59 in Amsterdam (CET)
        (datetime(2026, 12, 1, 6, 59, tzinfo=UTC), True),  # 07:59
        (datetime(2026, 12, 1, 18, 59, tzinfo=UTC), False),  # 19:59
        (datetime(2026, 12, 1, 19, 0, tzinfo=UTC), True),  # 20:00
        (datetime(2026, 7, 7, 18, 30, tzinfo=UTC), True),  # 20:30 in summer time (CEST)
        (datetime(2026, 12, 5, 11, 0, tzinfo=UTC), True),  # a Saturday at noon
    ],
)
def test_quiet_hours_are_evenings_nights_and_weekends_in_amsterdam(
    moment: datetime, quiet: bool
) -> None:
    assert AMSTERDAM.is_quiet(moment) is quiet


def test_a_friday_evening_message_waits_for_monday_eight_oclock() -> None:
    friday_evening = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)  # 21:00 in Amsterdam

    assert AMSTERDAM.next_allowed(friday_evening) == datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def test_a_weekday_night_message_waits_for_eight_the_same_morning_in_summer_time() -> None:
    night = datetime(2026, 7, 7, 1, 0, tzinfo=UTC)  # 03:00 CEST on a Tuesday

    assert AMSTERDAM.next_allowed(night) == datetime(2026, 7, 7, 6, 0, tzinfo=UTC)


def test_an_allowed_moment_is_kept_and_configured_hours_are_used() -> None:
    moment = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    lunch = QuietHours(start=time(12, 0), end=time(13, 0), weekends=False)

    assert AMSTERDAM.next_allowed(moment) == moment
    assert lunch.next_allowed(datetime(2026, 12, 5, 11, 30, tzinfo=UTC)) == datetime(
        2026, 12, 5, 12, 0, tzinfo=UTC
    )
