"""Quiet hours: when messages that can wait are not sent (evenings, nights, weekends)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

SATURDAY = 5


@dataclass(frozen=True, kw_only=True, slots=True)
class QuietHours:
    """No sending from `start` to `end` (local time, through midnight when start > end)."""

    start: time = time(20, 0)
    end: time = time(8, 0)
    weekends: bool = True
    timezone: str = "Europe/Amsterdam"

    def is_quiet(self, moment: datetime) -> bool:
        """Whether `moment` (timezone-aware) falls in quiet hours."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        if self.weekends and local.weekday() >= SATURDAY:
            return True
        now = local.time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """`moment` itself outside quiet hours, else the first moment after them."""
        if not self.is_quiet(moment):
            return moment
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone)
        # Quiet hours end at `end` on some day within the next week; try each day's end.
        for days in range(8):
            day = (local + timedelta(days=days)).date()
            candidate = datetime.combine(day, self.end, tzinfo=zone)
            if candidate > local and not self.is_quiet(candidate):
                return candidate.astimezone(moment.tzinfo)
        raise ValueError("quiet hours leave no moment to send")
