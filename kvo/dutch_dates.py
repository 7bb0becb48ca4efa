"""Dates and times written out in Dutch, without depending on the machine's locale."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def format_day(day: date, *, with_year: bool = True) -> str:
    """``dinsdag 1 december 2026`` (or without the year)."""
    text = f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if with_year else text


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """``09:00`` in the given time zone."""
    return moment.astimezone(tz).strftime("%H:%M")


def format_slot(
    starts_at: datetime, ends_at: datetime, tz: ZoneInfo, *, with_year: bool = True
) -> str:
    """``dinsdag 1 december 2026 van 09:00 tot 10:00 uur`` in the given time zone."""
    local_start = starts_at.astimezone(tz)
    return (
        f"{format_day(local_start.date(), with_year=with_year)} van {format_time(starts_at, tz)}"
        f" tot {format_time(ends_at, tz)} uur"
    )


def format_slot_short(starts_at: datetime, tz: ZoneInfo) -> str:
    """``di 1 dec 09:00``: short enough for a chat button."""
    local = starts_at.astimezone(tz)
    return (
        f"{WEEKDAYS[local.weekday()][:2]} {local.day} {MONTHS[local.month - 1][:3]} {local:%H:%M}"
    )
