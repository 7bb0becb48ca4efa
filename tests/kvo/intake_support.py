"""Plain helpers for the intake tests (values, not fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from kvo.lead_fields import LeadFields
from kvo.models import Base

AMS = ZoneInfo("Europe/Amsterdam")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An Amsterdam wall-clock time as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=AMS).astimezone(UTC)


# Monday 30 November 2026, 10:00 in Amsterdam; the first bookable day is Tuesday 1 December.
MONDAY = local(2026, 11, 30, 10)
TUESDAY_9 = local(2026, 12, 1, 9)
TUESDAY_10 = local(2026, 12, 1, 10)


def intake_fields(**overrides: object) -> LeadFields:
    values: dict[str, object] = {
        "name": "Jan de Vries",
        "email": "Jan.de.Vries@Example.org",
        "phone": "06-12345678",
        "municipality": "Breda",
        "area_name": "Binnenstad",
        "role": "ondernemer",
        "organisation": "Bakkerij De Vries",
        "area_kind": "winkelgebied",
        "description": "Wij willen starten met het KVO",
        "consent_at": MONDAY,
    }
    values.update(overrides)
    return LeadFields(**values)  # type: ignore[arg-type]


def all_stored_text(session: Session) -> str:
    """Every value in every table of the domain database, as one string."""
    parts = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            parts.extend(str(value) for value in row)
    return "\n".join(parts)
