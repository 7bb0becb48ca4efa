"""Small date/time helpers: aware UTC instants and calendar-month arithmetic."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

UTC = UTC


def utc_now() -> datetime:
    return datetime.now(UTC)


def ensure_utc(moment: datetime | None) -> datetime:
    """An aware UTC datetime; ``None`` means now. Naive values are refused, not guessed."""
    if moment is None:
        return utc_now()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime")
    return moment.astimezone(UTC)


def local_date(moment: datetime, tz_name: str) -> date:
    """The calendar date at ``moment`` in the given IANA time zone."""
    return ensure_utc(moment).astimezone(ZoneInfo(tz_name)).date()


def add_months(day: date, months: int) -> date:
    """Shift by whole calendar months, clamping to the month's last day (31 Aug + 6 = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)
