"""Staff-side lead services: list, detail, CSV export, status changes, erasure, retention.

Used by the operator CLI (``python -m kvo leads ...``) now and by the staff API
later; both call these functions with a session and plain values and get frozen
dataclasses back. Every status change goes through ``kvo/lead_status.py``.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Union

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from kvo import lead_status, outbox
from kvo.availability import is_facilitator_free
from kvo.contact_details import format_phone
from kvo.intake import apply_cancellation
from kvo.intake_drafts import purge_expired_drafts
from kvo.models import (
    AreaKind,
    ContactArea,
    Facilitator,
    IntakeDraft,
    Lead,
    LeadEvent,
    LeadKind,
    LeadNote,
    LeadStatus,
    MailKind,
    MailStatus,
    OutboxMessage,
)
from kvo.settings import Settings, get_settings
from kvo.timeutil import UTC, add_months, ensure_utc, local_date

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500
SORT_FIELDS = {
    "created_at": Lead.created_at,
    "slot_start": Lead.slot_start,
    "status": Lead.status,
    "kind": Lead.kind,
    "contact_area": Lead.contact_area,
    "municipality": Lead.municipality,
    "reference": Lead.reference,
}
VISITOR_MAILS = frozenset(kind for kind in MailKind if kind.recipient == "visitor")


# --- queries and results -------------------------------------------------------------


@dataclass(frozen=True)
class LeadQuery:
    """Filters (empty = all), sorting and paging for :func:`list_leads` / export."""

    statuses: tuple[LeadStatus, ...] = ()
    kinds: tuple[LeadKind, ...] = ()
    contact_areas: tuple[ContactArea, ...] = ()
    area_kinds: tuple[AreaKind, ...] = ()
    created_from: date | None = None  # local dates (settings' time zone), inclusive
    created_to: date | None = None
    sort: str = "created_at"  # one of SORT_FIELDS
    descending: bool = True  # newest first
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class LeadRow:
    id: int
    reference: str
    kind: str
    status: str
    created_at: datetime
    contact_area: str | None
    municipality: str | None
    area_name: str | None
    area_kind: str | None
    role: str | None
    name: str | None  # None once erased
    organisation: str | None
    slot_start: datetime | None
    slot_end: datetime | None
    facilitator_name: str | None
    erased: bool
    mail_failed: bool  # a notification gave up: staff should check


@dataclass(frozen=True)
class LeadPage:
    items: tuple[LeadRow, ...]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class LeadEventRecord:
    occurred_at: datetime
    event: str
    from_status: str | None
    to_status: str | None
    actor: str | None


@dataclass(frozen=True)
class MailDelivery:
    kind: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class LeadDetail:
    row: LeadRow
    email: str | None
    phone: str | None  # E.164
    phone_display: str  # 06 12345678
    description: str | None
    consent_at: datetime
    conversation_id: str | None  # needed to purge the conversation on erasure
    facilitator_id: int | None
    facilitator_email: str | None
    ics_sequence: int
    updated_at: datetime
    erased_at: datetime | None
    allowed_statuses: tuple[str, ...]
    events: tuple[LeadEventRecord, ...] = field(default=())
    deliveries: tuple[MailDelivery, ...] = field(default=())


@dataclass(frozen=True)
class LeadNotFound:
    pass


@dataclass(frozen=True)
class StatusChanged:
    lead_id: int
    from_status: str
    to_status: str


@dataclass(frozen=True)
class TransitionRefused:
    current: str
    wanted: str
    allowed: tuple[str, ...]


@dataclass(frozen=True)
class Erased:
    lead_id: int
    # The caller purges this conversation from the tracker store (None: unknown or done).
    conversation_id: str | None
    already: bool = False


@dataclass(frozen=True)
class PurgeResult:
    erased: int
    drafts: int
    mails: int
    conversation_ids: tuple[str, ...]  # to purge from the tracker store


@dataclass(frozen=True)
class Reassigned:
    lead_id: int
    facilitator_id: int


@dataclass(frozen=True)
class ReassignRefused:
    """Why the facilitator cannot take this intake."""

    reason: str  # "geen_afspraak" | "onbekende_begeleider" | "ander_contactgebied" | "bezet"


StatusOutcome = Union[StatusChanged, TransitionRefused, LeadNotFound]  # noqa: UP007
ReassignOutcome = Union[Reassigned, ReassignRefused, LeadNotFound]  # noqa: UP007
EraseOutcome = Union[Erased, LeadNotFound]  # noqa: UP007


# --- listing -------------------------------------------------------------------------


def _day_start(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time(0), tzinfo=settings.tzinfo).astimezone(UTC)


def _conditions(query: LeadQuery, settings: Settings) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.statuses:
        conditions.append(Lead.status.in_(query.statuses))
    if query.kinds:
        conditions.append(Lead.kind.in_(query.kinds))
    if query.contact_areas:
        conditions.append(Lead.contact_area.in_(query.contact_areas))
    if query.area_kinds:
        conditions.append(Lead.area_kind.in_(query.area_kinds))
    if query.created_from:
        conditions.append(Lead.created_at >= _day_start(query.created_from, settings))
    if query.created_to:
        conditions.append(
            Lead.created_at < _day_start(query.created_to + timedelta(days=1), settings)
        )
    return conditions


def _mail_failed() -> ColumnElement[bool]:
    return exists().where(
        OutboxMessage.lead_id == Lead.id, OutboxMessage.status == MailStatus.FAILED
    )


def _row_select():  # type: ignore[no-untyped-def]
    facilitator = aliased(Facilitator)
    return (
        select(
            Lead.id,
            Lead.reference,
            Lead.kind,
            Lead.status,
            Lead.created_at,
            Lead.contact_area,
            Lead.municipality,
            Lead.area_name,
            Lead.area_kind,
            Lead.role,
            Lead.name,
            Lead.organisation,
            Lead.slot_start,
            Lead.slot_end,
            facilitator.name,
            Lead.erased_at.is_not(None),
            _mail_failed(),
        )
        .select_from(Lead)
        .outerjoin(facilitator, facilitator.id == Lead.facilitator_id)
    )


def _value(member: object) -> object:
    return getattr(member, "value", member)


def _row(values: Sequence[object]) -> LeadRow:
    plain = [_value(value) for value in values]
    plain[-2], plain[-1] = bool(plain[-2]), bool(plain[-1])
    return LeadRow(*plain)  # type: ignore[arg-type]


def _ordered(statement, query: LeadQuery):  # type: ignore[no-untyped-def]
    column = SORT_FIELDS.get(query.sort)
    if column is None:
        raise ValueError(f"unknown sort field {query.sort!r}")
    primary = column.desc() if query.descending else column.asc()
    tie = Lead.id.desc() if query.descending else Lead.id.asc()
    if column.nullable:  # type: ignore[attr-defined]
        # NULLs (no slot) last either way, the same on SQLite and PostgreSQL.
        return statement.order_by(column.is_(None), primary, tie)
    return statement.order_by(primary, tie)


def list_leads(
    session: Session, query: LeadQuery | None = None, *, settings: Settings | None = None
) -> LeadPage:
    """One page of leads matching the filters, with the total count."""
    settings = settings or get_settings()
    query = query or LeadQuery()
    page = max(1, query.page)
    size = min(max(1, query.page_size), MAX_PAGE_SIZE)
    conditions = _conditions(query, settings)
    total = session.scalar(select(func.count()).select_from(Lead).where(*conditions)) or 0
    statement = _ordered(_row_select().where(*conditions), query)
    rows = session.execute(statement.limit(size).offset((page - 1) * size))
    return LeadPage(tuple(_row(row) for row in rows), total, page, size)


def _allowed(current: LeadStatus) -> tuple[str, ...]:
    """The next statuses, in life-cycle order."""
    return tuple(s.value for s in LeadStatus if s in lead_status.ALLOWED_TRANSITIONS[current])


def find_lead_id(session: Session, reference_or_id: str) -> int | None:
    """A lead id from ``INT-XXXXXX`` (any case) or a number."""
    text = (reference_or_id or "").strip()
    if text.isdigit():
        return session.scalar(select(Lead.id).where(Lead.id == int(text)))
    return session.scalar(select(Lead.id).where(Lead.reference == text.upper()))


def get_lead(session: Session, lead_id: int) -> LeadDetail | None:
    """Everything about one lead, including personal data: show it only to staff."""
    row = session.execute(_row_select().where(Lead.id == lead_id)).first()
    if row is None:
        return None
    lead = session.scalars(
        select(Lead).where(Lead.id == lead_id).options(selectinload(Lead.events))
    ).one()
    facilitator_email = (
        session.scalar(select(Facilitator.email).where(Facilitator.id == lead.facilitator_id))
        if lead.facilitator_id
        else None
    )
    deliveries = session.execute(
        select(
            OutboxMessage.kind,
            OutboxMessage.status,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.next_attempt_at,
            OutboxMessage.sent_at,
        )
        .where(OutboxMessage.lead_id == lead_id)
        .order_by(OutboxMessage.id)
    )
    return LeadDetail(
        row=_row(row),
        email=lead.email,
        phone=lead.phone,
        phone_display=format_phone(lead.phone),
        description=lead.description,
        consent_at=lead.consent_at,
        conversation_id=lead.conversation_id,
        facilitator_id=lead.facilitator_id,
        facilitator_email=facilitator_email,
        ics_sequence=lead.ics_sequence,
        updated_at=lead.updated_at,
        erased_at=lead.erased_at,
        allowed_statuses=_allowed(lead.status),
        events=tuple(
            LeadEventRecord(
                e.occurred_at,
                e.event,
                _value(e.from_status),  # type: ignore[arg-type]
                _value(e.to_status),  # type: ignore[arg-type]
                e.actor,
            )
            for e in lead.events
        ),
        deliveries=tuple(
            MailDelivery(_value(k), _value(s), a, err, nxt, sent)  # type: ignore[arg-type]
            for k, s, a, err, nxt, sent in deliveries
        ),
    )


# --- export --------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "referentie", "soort", "status", "aangemaakt", "contactgebied", "gemeente", "gebied",
    "soort_gebied", "rol", "naam", "organisatie", "email", "telefoon", "omschrijving",
    "afspraak_begin", "afspraak_einde", "procesbegeleider", "toestemming", "gewist",
    "mail_mislukt",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object, settings: Settings) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, datetime):
        return value.astimezone(settings.tzinfo).strftime("%Y-%m-%d %H:%M")
    text = str(_value(value))
    # Visitor text opened in a spreadsheet must never run as a formula (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def iter_leads_csv(
    session: Session, query: LeadQuery | None = None, *, settings: Settings | None = None
) -> Iterator[str]:
    """CSV lines (header first) of all leads matching the filters; paging is ignored."""
    settings = settings or get_settings()
    query = query or LeadQuery()
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_COLUMNS)
    yield flush()
    facilitator = aliased(Facilitator)
    columns = (
        Lead.reference, Lead.kind, Lead.status, Lead.created_at, Lead.contact_area,
        Lead.municipality, Lead.area_name, Lead.area_kind, Lead.role, Lead.name,
        Lead.organisation, Lead.email, Lead.phone, Lead.description, Lead.slot_start,
        Lead.slot_end, facilitator.name, Lead.consent_at, Lead.erased_at.is_not(None),
        _mail_failed(),
    )  # fmt: skip
    statement = _ordered(
        select(*columns)
        .select_from(Lead)
        .outerjoin(facilitator, facilitator.id == Lead.facilitator_id)
        .where(*_conditions(query, settings)),
        query,
    )
    for row in session.execute(statement.execution_options(yield_per=500)):
        values = list(row)
        values[12] = format_phone(values[12]) or None
        values[-2], values[-1] = bool(values[-2]), bool(values[-1])
        writer.writerow([_cell(value, settings) for value in values])
        yield flush()


def export_leads(
    session: Session, query: LeadQuery | None = None, *, settings: Settings | None = None
) -> str:
    """The whole CSV export as one string (small data sets, tests)."""
    return "".join(iter_leads_csv(session, query, settings=settings))


# --- changes -------------------------------------------------------------------------


def change_status(
    session: Session,
    lead_id: int,
    new_status: LeadStatus,
    actor: str,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> StatusOutcome:
    """Move a lead along the life cycle. Cancelling or rejecting a planned intake frees
    its slot and tells the visitor and the facilitator (new calendar SEQUENCE)."""
    settings = settings or get_settings()
    now = ensure_utc(now)
    lead = session.scalars(select(Lead).where(Lead.id == lead_id).with_for_update()).one_or_none()
    if lead is None:
        return LeadNotFound()
    current = lead.status
    if not lead_status.can_transition(current, new_status):
        return TransitionRefused(
            current.value,
            new_status.value,
            _allowed(current),
        )
    if new_status in (LeadStatus.GEANNULEERD, LeadStatus.AFGEWEZEN) and (
        lead.booking is not None or lead.kind is LeadKind.CALLBACK
    ):
        apply_cancellation(
            session,
            lead,
            now,
            actor=actor,
            by_visitor=False,
            to_status=new_status,
            settings=settings,
        )
    else:
        lead.events.append(
            LeadEvent(
                occurred_at=now,
                event="status",
                from_status=current,
                to_status=new_status,
                actor=actor,
            )
        )
        lead.status = new_status
        lead.updated_at = now
        if new_status in lead_status.FINAL_STATUSES:
            outbox.cancel_pending(session, lead.id, outbox.REMINDER_KINDS)
        session.flush()
    logger.info("lead.status_changed lead_id=%s to=%s", lead.id, new_status.value)
    return StatusChanged(lead.id, current.value, new_status.value)


def reassign_facilitator(
    session: Session,
    lead_id: int,
    facilitator_id: int,
    actor: str,
    now: datetime | None = None,
) -> ReassignOutcome:
    """Give a planned intake to another facilitator of its contact area.

    The slot is re-checked: the new facilitator must have no booking or blocked period
    overlapping it (the unique constraint guards the exact start as well). Staff may
    assign outside the facilitator's weekly rules. The old facilitator gets a
    cancellation, the new one the invitation; the visitor's appointment is unchanged.
    """
    now = ensure_utc(now)
    lead = session.scalars(select(Lead).where(Lead.id == lead_id).with_for_update()).one_or_none()
    if lead is None:
        return LeadNotFound()
    booking = lead.booking
    if booking is None or lead.status is not LeadStatus.GEPLAND:
        return ReassignRefused("geen_afspraak")
    if booking.facilitator_id == facilitator_id:
        return Reassigned(lead.id, facilitator_id)
    facilitator = session.get(Facilitator, facilitator_id)
    if facilitator is None or not facilitator.active:
        return ReassignRefused("onbekende_begeleider")
    if facilitator.contact_area is not lead.contact_area:
        return ReassignRefused("ander_contactgebied")
    if not is_facilitator_free(session, facilitator_id, booking.starts_at, booking.ends_at):
        return ReassignRefused("bezet")
    old_facilitator = booking.facilitator_id
    # A write before the savepoint (see kvo/intake.py, move_booking).
    lead.updated_at = now
    session.flush()
    try:
        with session.begin_nested():
            booking.facilitator_id = facilitator_id
            booking.rules_version = facilitator.rules_version
            session.flush()
    except IntegrityError:
        session.refresh(booking)
        return ReassignRefused("bezet")
    lead.facilitator_id = facilitator_id
    lead.ics_sequence += 1  # the old facilitator's CANCEL must supersede their invitation
    lead.events.append(LeadEvent(occurred_at=now, event="begeleider", actor=actor))
    session.flush()
    outbox.cancel_pending(session, lead.id, frozenset({MailKind.FACILITATOR_REMINDER}))
    outbox.enqueue(
        session,
        lead,
        MailKind.FACILITATOR_CANCELLED,
        now,
        facilitator_id=old_facilitator,
        payload={"by_visitor": False},
    )
    outbox.enqueue(session, lead, MailKind.FACILITATOR_BOOKING, now, facilitator_id=facilitator_id)
    session.flush()
    logger.info("lead.reassigned lead_id=%s", lead.id)
    return Reassigned(lead.id, facilitator_id)


def _erase(
    session: Session, lead: Lead, now: datetime, actor: str, settings: Settings
) -> str | None:
    if (
        lead.booking is not None
        and lead.slot_start is not None
        and lead.slot_start > now
        and lead_status.can_transition(lead.status, LeadStatus.GEANNULEERD)
    ):
        # Nobody can be reached for this intake any more: free the slot, tell staff and
        # the facilitator.
        apply_cancellation(session, lead, now, actor=actor, by_visitor=True, settings=settings)
    conversation_id = lead.conversation_id
    if lead.conversation_key:
        session.execute(
            delete(IntakeDraft).where(IntakeDraft.conversation_key == lead.conversation_key)
        )
    # Staff notes may quote the visitor: they go with the personal data.
    session.execute(delete(LeadNote).where(LeadNote.lead_id == lead.id))
    lead.name = lead.email = lead.phone = None
    lead.organisation = lead.description = None
    lead.conversation_id = lead.conversation_key = lead.client_key = None
    lead.erased_at = now
    lead.updated_at = now
    lead.events.append(LeadEvent(occurred_at=now, event="gewist", actor=actor))
    # Mails to the visitor can no longer be addressed.
    outbox.cancel_pending(session, lead.id, VISITOR_MAILS)
    session.flush()
    return conversation_id


def erase_lead_personal_data(
    session: Session,
    lead_id: int,
    actor: str,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> EraseOutcome:
    """Erase a lead's personal data (AVG request), leaving an anonymous record.

    Returns the conversation id so that the caller also purges the conversation from
    the tracker store. A future intake is cancelled first (its slot is freed).
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    lead = session.scalars(select(Lead).where(Lead.id == lead_id).with_for_update()).one_or_none()
    if lead is None:
        return LeadNotFound()
    if lead.erased_at is not None:
        return Erased(lead.id, None, already=True)
    conversation_id = _erase(session, lead, now, actor, settings)
    logger.info("lead.erased lead_id=%s", lead.id)
    return Erased(lead.id, conversation_id)


def purge_expired(
    session: Session, now: datetime | None = None, *, settings: Settings | None = None
) -> PurgeResult:
    """Apply the retention period (``lead_retention_months``, default 12).

    Leads created before the cutoff, whose intake (if any) also ended before it, lose
    their personal data; finished outbox rows that old are deleted; expired drafts too.
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    cutoff_day = add_months(local_date(now, settings.timezone), -settings.lead_retention_months)
    cutoff = _day_start(cutoff_day, settings)
    leads = session.scalars(
        select(Lead).where(
            Lead.erased_at.is_(None),
            Lead.created_at < cutoff,
            or_(Lead.slot_end.is_(None), Lead.slot_end < cutoff),
        )
    ).all()
    conversation_ids = []
    for lead in leads:
        conversation_id = _erase(session, lead, now, "bewaartermijn", settings)
        if conversation_id:
            conversation_ids.append(conversation_id)
    mails = session.execute(
        delete(OutboxMessage).where(
            and_(
                OutboxMessage.created_at < cutoff,
                OutboxMessage.status != MailStatus.PENDING,
            )
        )
    )
    drafts = purge_expired_drafts(session, now)
    session.flush()
    logger.info("lead.purged erased=%s", len(leads))
    return PurgeResult(
        erased=len(leads),
        drafts=drafts,
        mails=int(mails.rowcount),  # type: ignore[attr-defined]
        conversation_ids=tuple(conversation_ids),
    )
