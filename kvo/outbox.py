"""Notifications queued in the same transaction as the lead change they announce.

A lead is never lost or delayed because mail is slow or down: the services only
add rows here; ``python -m kvo mail worker`` (``kvo/mail.py``) sends them later,
with retries. Rows hold no personal data; the mail is rendered from the lead at
sending time (an erased lead's visitor mails are dropped).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from kvo.availability import previous_working_day
from kvo.models import Lead, MailKind, MailStatus, OutboxMessage
from kvo.settings import Settings, get_settings
from kvo.timeutil import UTC, local_date

REMINDER_KINDS = frozenset({MailKind.VISITOR_REMINDER, MailKind.FACILITATOR_REMINDER})


def enqueue(
    session: Session,
    lead: Lead,
    kind: MailKind,
    now: datetime,
    *,
    not_before: datetime | None = None,
    facilitator_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        lead_id=lead.id,
        kind=kind,
        facilitator_id=facilitator_id,
        payload=payload or {},
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_at=not_before or now,
        created_at=now,
    )
    session.add(message)
    return message


def reminder_time(starts_at: datetime, settings: Settings) -> datetime:
    """The working day before the intake, at ``reminder_hour`` local time (as UTC)."""
    day = previous_working_day(local_date(starts_at, settings.timezone))
    local = datetime.combine(day, time(settings.reminder_hour), tzinfo=settings.tzinfo)
    return local.astimezone(UTC)


def _queue_reminders(session: Session, lead: Lead, now: datetime, settings: Settings) -> None:
    if lead.slot_start is None:
        return
    at = reminder_time(lead.slot_start, settings)
    # Booked on the working day before (or later): the confirmation is reminder enough.
    if at <= now:
        return
    if lead.email:
        enqueue(session, lead, MailKind.VISITOR_REMINDER, now, not_before=at)
    enqueue(
        session,
        lead,
        MailKind.FACILITATOR_REMINDER,
        now,
        not_before=at,
        facilitator_id=lead.facilitator_id,
    )


def cancel_pending(session: Session, lead_id: int, kinds: frozenset[MailKind] | None = None) -> int:
    """Mark a lead's unsent messages (optionally only some kinds) as no longer needed."""
    statement = update(OutboxMessage).where(
        OutboxMessage.lead_id == lead_id, OutboxMessage.status == MailStatus.PENDING
    )
    if kinds is not None:
        statement = statement.where(OutboxMessage.kind.in_(kinds))
    result = session.execute(statement.values(status=MailStatus.CANCELLED))
    return int(result.rowcount)  # type: ignore[attr-defined]


def notify_new_booking(
    session: Session, lead: Lead, now: datetime, settings: Settings | None = None
) -> None:
    """Staff, visitor (with the invitation) and facilitator; reminders for the day before."""
    settings = settings or get_settings()
    enqueue(session, lead, MailKind.STAFF_NEW_BOOKING, now)
    if lead.email:
        enqueue(session, lead, MailKind.VISITOR_BOOKING, now)
    enqueue(session, lead, MailKind.FACILITATOR_BOOKING, now, facilitator_id=lead.facilitator_id)
    _queue_reminders(session, lead, now, settings)


def notify_new_callback(session: Session, lead: Lead, now: datetime) -> None:
    enqueue(session, lead, MailKind.STAFF_NEW_CALLBACK, now)
    if lead.email:
        enqueue(session, lead, MailKind.VISITOR_CALLBACK, now)


def _slot_payload(starts_at: datetime | None, ends_at: datetime | None) -> dict[str, Any]:
    if starts_at is None or ends_at is None:
        return {}
    return {"old_start": starts_at.isoformat(), "old_end": ends_at.isoformat()}


def notify_cancelled(
    session: Session,
    lead: Lead,
    now: datetime,
    *,
    facilitator_id: int | None,
    by_visitor: bool,
) -> None:
    """Everyone who knew of the intake hears of its cancellation; reminders are dropped."""
    cancel_pending(session, lead.id, REMINDER_KINDS)
    payload = {"by_visitor": by_visitor}
    enqueue(session, lead, MailKind.STAFF_CANCELLED, now, payload=payload)
    if lead.email and lead.slot_start is not None:
        enqueue(session, lead, MailKind.VISITOR_CANCELLED, now, payload=payload)
    if facilitator_id is not None and lead.slot_start is not None:
        enqueue(
            session,
            lead,
            MailKind.FACILITATOR_CANCELLED,
            now,
            facilitator_id=facilitator_id,
            payload=payload,
        )


def notify_moved(
    session: Session,
    lead: Lead,
    now: datetime,
    *,
    old_start: datetime,
    old_end: datetime,
    old_facilitator_id: int | None,
    settings: Settings | None = None,
) -> None:
    """Updated invitations (same UID, higher SEQUENCE); a changed facilitator gets a CANCEL."""
    settings = settings or get_settings()
    cancel_pending(session, lead.id, REMINDER_KINDS)
    payload = _slot_payload(old_start, old_end)
    enqueue(session, lead, MailKind.STAFF_MOVED, now, payload=payload)
    if lead.email:
        enqueue(session, lead, MailKind.VISITOR_MOVED, now, payload=payload)
    if old_facilitator_id is not None and old_facilitator_id != lead.facilitator_id:
        enqueue(
            session,
            lead,
            MailKind.FACILITATOR_CANCELLED,
            now,
            facilitator_id=old_facilitator_id,
            payload={**payload, "by_visitor": True, "moved": True},
        )
        enqueue(
            session, lead, MailKind.FACILITATOR_BOOKING, now, facilitator_id=lead.facilitator_id
        )
    else:
        enqueue(
            session,
            lead,
            MailKind.FACILITATOR_MOVED,
            now,
            facilitator_id=lead.facilitator_id,
            payload=payload,
        )
    _queue_reminders(session, lead, now, settings)
