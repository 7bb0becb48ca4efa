"""The intake chat's calls into the domain layer, each in its own transaction, bounded in time.

The actions run these in a worker thread with the database timeout (a slow database never blocks
the action server) and turn :class:`StoreProblem` into a clear Dutch answer. Nothing here logs a
value the visitor typed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from actions.errors import describe_error
from kvo import intake, intake_drafts, municipalities
from kvo.availability import Slot, earliest_bookable_day, free_slots, start_of_next_week
from kvo.db import StoreUnavailable, session_scope
from kvo.lead_fields import LeadFields
from kvo.models import ContactArea
from kvo.settings import get_settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
SLOTS_OFFERED = 3


class StoreProblem(RuntimeError):
    """The database could not be used in time; the visitor gets the 'try later' answer."""


async def run_in_store[T](function: Callable[..., T], *args: object) -> T:
    """Run ``function(*args)`` in a thread with the configured timeout."""
    settings = get_settings()
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(function, *args), timeout=settings.db_timeout_seconds
        )
    except (TimeoutError, StoreUnavailable) as error:
        logger.warning("intake store unavailable: %s", type(error).__name__)
        raise StoreProblem from error
    except Exception as error:
        # A deployment fault: the log gets the type and place, never the text (it can quote input).
        logger.error("intake store failed: %s", describe_error(error))
        raise StoreProblem from error


def _now() -> datetime:
    return datetime.now(UTC)


# --- drafts ----------------------------------------------------------------------------------


def load_draft(conversation_id: str) -> dict[str, str | None]:
    with session_scope() as session:
        return intake_drafts.load_draft(session, conversation_id, _now())


def save_fields(conversation_id: str, values: Mapping[str, str | None]) -> dict[str, str | None]:
    with session_scope() as session:
        return intake_drafts.save_fields(session, conversation_id, dict(values), _now())


def discard_draft(conversation_id: str) -> bool:
    with session_scope() as session:
        return intake_drafts.discard_draft(session, conversation_id)


# --- slots -----------------------------------------------------------------------------------


def contact_area_of(municipality: str | None) -> ContactArea | None:
    match = municipalities.resolve_municipality(municipality) if municipality else None
    return match.contact_area if isinstance(match, municipalities.InRegion) else None


def week_start(week: int, now: datetime | None = None) -> date | None:
    """Week 0: the earliest bookable day; week n: the Monday n weeks after this week."""
    if week <= 0:
        return None
    settings = get_settings()
    first = earliest_bookable_day(now or _now(), settings)
    return start_of_next_week(first) + timedelta(days=7 * (week - 1))


def offer_slots(area: ContactArea, week: int) -> tuple[Slot, ...]:
    with session_scope() as session:
        return free_slots(session, area, _now(), count=SLOTS_OFFERED, start_on=week_start(week))


# --- leads -----------------------------------------------------------------------------------


def book(
    fields: LeadFields, slot_start: datetime, conversation_id: str, client: str | None
) -> intake.BookingOutcome:
    with session_scope() as session:
        return intake.finalize_booking(session, fields, slot_start, conversation_id, client)


def call_back(
    fields: LeadFields, conversation_id: str, client: str | None
) -> intake.CallbackOutcome:
    with session_scope() as session:
        return intake.request_callback(session, fields, conversation_id, client)


def verify(
    reference: str, contact: str, conversation_id: str, client: str | None
) -> intake.AccessOutcome:
    with session_scope() as session:
        return intake.verify_booking(
            session, reference, contact, conversation_id, client_key=client
        )


def cancel(
    reference: str, contact: str, conversation_id: str, client: str | None
) -> intake.CancelOutcome:
    with session_scope() as session:
        return intake.cancel_booking(
            session, reference, contact, conversation_id, client_key=client
        )


def move(
    reference: str, contact: str, new_start: datetime, conversation_id: str, client: str | None
) -> intake.MoveOutcome:
    with session_scope() as session:
        return intake.move_booking(
            session, reference, contact, new_start, conversation_id, client_key=client
        )
