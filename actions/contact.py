"""How a visitor reaches a person at PVO: built from settings, never from training data."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from actions.office_hours import OfficeHours, parse_office_hours
from kvo.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def contact_route(settings: Settings | None = None) -> str:
    """One Dutch phrase naming every configured contact route, e.g. "per e-mail (x) of via ..."."""
    settings = settings or get_settings()
    routes = []
    if settings.contact_phone:
        routes.append(f"telefonisch op {settings.contact_phone}")
    if settings.contact_email:
        routes.append(f"per e-mail via {settings.contact_email}")
    if settings.contact_url:
        routes.append(f"via de website {settings.contact_url}")
    if not routes:
        return "via de website van PVO Brabant-Zeeland"
    if len(routes) == 1:
        return routes[0]
    return ", ".join(routes[:-1]) + " of " + routes[-1]


def office_hours(settings: Settings | None = None) -> OfficeHours | None:
    """The configured office hours, or None (with a warning in the log) when the setting is invalid."""
    settings = settings or get_settings()
    try:
        return parse_office_hours(settings.office_hours)
    except ValueError as error:
        logger.warning("PVO_OFFICE_HOURS ignored: %s", error)
        return None


def handoff_message(now: datetime | None = None, settings: Settings | None = None) -> str:
    """The Dutch answer to "I want to talk to a person", with the office-hours remark."""
    settings = settings or get_settings()
    text = f"U kunt een medewerker van PVO Brabant-Zeeland bereiken {contact_route(settings)}."
    hours = office_hours(settings)
    if hours is None:
        return text
    local_now = (now or datetime.now(tz=ZoneInfo(settings.timezone))).astimezone(
        ZoneInfo(settings.timezone)
    )
    text += f" Onze medewerkers zijn bereikbaar op {hours.describe()}."
    if not hours.is_open(local_now):
        text += (
            " Het is nu buiten kantooruren. Laat gerust een bericht achter; een medewerker"
            " reageert in de eerstvolgende kantooruren."
        )
    return text
