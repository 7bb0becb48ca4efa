"""Counts per week for the staff dashboard's chart (no personal data)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kvo.models import Lead
from kvo.settings import Settings, get_settings
from kvo.timeutil import UTC, ensure_utc


def week_start(day: date) -> date:
    """The Monday of the ISO week of ``day``."""
    return day - timedelta(days=day.weekday())


def leads_per_week(
    session: Session,
    weeks: int = 12,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> list[tuple[date, int]]:
    """(Monday, leads created that week) for the last ``weeks`` weeks, oldest first."""
    settings = settings or get_settings()
    tz = settings.tzinfo
    today = ensure_utc(now).astimezone(tz).date()
    first = week_start(today) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    # Grouped in Python: the week of a local date is the same on SQLite and PostgreSQL then.
    created = session.scalars(select(Lead.created_at).where(Lead.created_at >= since))
    counts = Counter(week_start(moment.astimezone(tz).date()) for moment in created)
    return [
        (first + timedelta(weeks=i), counts.get(first + timedelta(weeks=i), 0))
        for i in range(weeks)
    ]
