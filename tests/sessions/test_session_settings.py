"""The sessions' settings: reminder days and the time to take an offered place."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_are_seven_and_one_day_before_and_a_day_to_confirm() -> None:
    rules = load_settings().session_rules()

    assert rules.reminder_offsets == (timedelta(days=7), timedelta(days=1))
    assert rules.offer_window == timedelta(hours=24)


def test_reminder_days_are_read_from_a_comma_separated_list() -> None:
    rules = load_settings(SESSION_REMINDER_DAYS="2, 14", SESSION_OFFER_HOURS="48").session_rules()

    assert rules.reminder_offsets == (timedelta(days=14), timedelta(days=2))
    assert rules.offer_window == timedelta(hours=48)


@pytest.mark.parametrize("days", ["0", "-1", "x", "61"])
def test_impossible_reminder_days_are_refused(days: str) -> None:
    with pytest.raises(SettingsError, match="SESSION_REMINDER_DAYS"):
        load_settings(SESSION_REMINDER_DAYS=days)
