"""How a visitor reaches a person at PVO: built from settings, never from training data."""

from __future__ import annotations

import logging

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
    """The configured office hours; None when unset, or (with a warning in the log) invalid."""
    settings = settings or get_settings()
    if not settings.office_hours.strip():
        return None
    try:
        return parse_office_hours(settings.office_hours)
    except ValueError as error:
        logger.warning("PVO_OFFICE_HOURS ignored: %s", error)
        return None


def contact_response(
    intent: str | None, settings: Settings | None = None
) -> tuple[str, dict[str, str]]:
    """Which response answers "how do I reach a person?", and the values of its variables.

    A question for contact details gets utter_contact, a wish to talk to someone utter_handoff;
    the office hours appear only when the PVO_OFFICE_HOURS setting holds valid hours.
    """
    settings = settings or get_settings()
    name = "utter_contact" if intent == "contact" else "utter_handoff"
    variables = {"contact_route": contact_route(settings)}
    hours = office_hours(settings)
    if hours is not None:
        name += "_with_hours"
        variables["office_hours"] = hours.describe()
    return name, variables
