"""Visitor-side intake services used by the chat: book, call back, cancel, move.

Guarantees:

- A slot is never booked twice: the ``bookings`` table's unique constraint on
  (facilitator, start) decides, not this code. When two visitors pick the same
  slot, one gets it and the other gets :class:`SlotTaken` with fresh slots.
- A retried confirmation (same conversation and slot) returns the existing
  booking (``Booked.created`` is False) and creates nothing.
- Cancel and move need the booking reference plus the e-mail address (or phone
  number) used; an unknown reference and a wrong address get the same
  :class:`NotFound`, cost the same and count towards the status check's lockout.
- Notifications are queued in the outbox in the same transaction as the lead.

Like ``kvo/status.py`` the functions flush and leave the commit to the caller: run
them inside ``kvo.db.session_scope()``. Exception, as in the status check: verify,
cancel and move first reserve their attempt in the lockout, which commits (call them
with a session that holds no half-done work). Results are small frozen dataclasses.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Union

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kvo import lead_status, lockout, outbox
from kvo.access_codes import ALPHABET
from kvo.availability import Slot, free_facilitators_at, free_slots
from kvo.contact_details import normalize_email, normalize_phone
from kvo.intake_drafts import discard_draft
from kvo.lead_fields import InvalidFields, LeadFields, ValidLead, validate_lead_fields
from kvo.models import Booking, ContactArea, Facilitator, Lead, LeadEvent, LeadKind, LeadStatus
from kvo.settings import Settings, get_settings
from kvo.timeutil import ensure_utc

logger = logging.getLogger(__name__)

REFERENCE_PREFIX = "INT-"
REFERENCE_CHARS = 6
_REFERENCE_RE = re.compile(
    rf"(?<![0-9A-Za-z])INT[\s\-_./:#\u2010-\u2015\u2212]{{0,3}}([{ALPHABET}]{{{REFERENCE_CHARS}}})(?![0-9A-Za-z])",
    re.IGNORECASE,
)
ALTERNATIVES = 3
_DAY = timedelta(days=1)
VISITOR = "bezoeker"


# --- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Booked:
    reference: str
    starts_at: datetime  # aware UTC
    ends_at: datetime
    contact_area: str
    created: bool = True  # False: a retried confirmation found the existing booking


@dataclass(frozen=True)
class SlotTaken:
    """Someone else was first (or the slot is no longer bookable): offer these instead."""

    alternatives: tuple[Slot, ...]


@dataclass(frozen=True)
class LimitReached:
    """Too many bookings or callback requests from this client or address today."""


@dataclass(frozen=True)
class CallbackRequested:
    reference: str
    created: bool = True


@dataclass(frozen=True)
class NotFound:
    """Unknown reference or wrong e-mail address/phone: deliberately indistinguishable."""


@dataclass(frozen=True)
class LockedOut:
    until: datetime  # aware UTC


@dataclass(frozen=True)
class BookingFound:
    """The visitor proved to know the reference and the address: what the chat may show."""

    reference: str
    kind: str  # intake | terugbelverzoek
    status: str
    starts_at: datetime | None
    ends_at: datetime | None
    contact_area: str | None
    can_cancel: bool
    can_move: bool


@dataclass(frozen=True)
class Cancelled:
    reference: str
    starts_at: datetime | None
    ends_at: datetime | None
    already: bool = False  # it was cancelled before (a retry)


@dataclass(frozen=True)
class Moved:
    reference: str
    old_starts_at: datetime
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class NotChangeable:
    """Identity is proven, but this lead cannot be cancelled or moved (any more)."""

    reason: str  # "afgerond" | "afgewezen" | "voorbij" | "geen_afspraak"


BookingOutcome = Union[Booked, SlotTaken, LimitReached, InvalidFields]  # noqa: UP007
CallbackOutcome = Union[CallbackRequested, LimitReached, InvalidFields]  # noqa: UP007
AccessOutcome = Union[BookingFound, NotFound, LockedOut]  # noqa: UP007
CancelOutcome = Union[Cancelled, NotChangeable, NotFound, LockedOut]  # noqa: UP007
MoveOutcome = Union[Moved, SlotTaken, NotChangeable, NotFound, LockedOut]  # noqa: UP007


# --- references ----------------------------------------------------------------------


def generate_reference() -> str:
    """``INT-`` plus 6 characters without look-alikes (30 bits from ``secrets``)."""
    return REFERENCE_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_CHARS))


def normalize_booking_reference(text: str | None) -> str | None:
    """The first booking reference in ``text`` as ``INT-XXXXXX`` ("int abc234" too), else None."""
    match = _REFERENCE_RE.search(text or "")
    return f"{REFERENCE_PREFIX}{match.group(1).upper()}" if match else None


def _unused_reference(session: Session) -> str:
    # 2^30 references: a clash is very rare, and the unique constraint catches a race.
    while True:
        reference = generate_reference()
        if not session.scalar(select(exists().where(Lead.reference == reference))):
            return reference


# --- helpers -------------------------------------------------------------------------


def _over_limit(
    session: Session,
    kind: LeadKind,
    valid: ValidLead,
    client_key: str | None,
    now: datetime,
    settings: Settings,
) -> bool:
    """Rolling 24 hours; cancelled leads count too (book-and-cancel loops stay limited)."""
    if kind is LeadKind.INTAKE:
        per_client, per_contact = (
            settings.bookings_per_client_per_day,
            settings.bookings_per_email_per_day,
        )
    else:
        per_client, per_contact = (
            settings.callbacks_per_client_per_day,
            settings.callbacks_per_email_per_day,
        )
    since = now - _DAY
    recent = (
        select(func.count()).select_from(Lead).where(Lead.kind == kind, Lead.created_at > since)
    )
    # An unknown client (no key) is not limited per client: strangers would share one bucket.
    checks = []
    client = lockout.normalize_client_key(client_key)
    if client:
        checks.append((Lead.client_key == client, per_client))
    if valid.email:
        checks.append((Lead.email == valid.email, per_contact))
    if valid.phone:
        checks.append((Lead.phone == valid.phone, per_contact))
    return any(
        (session.scalar(recent.where(condition)) or 0) >= limit for condition, limit in checks
    )


def _new_lead(
    session: Session,
    kind: LeadKind,
    valid: ValidLead,
    conversation_id: str,
    client_key: str | None,
    now: datetime,
) -> Lead:
    lead = Lead(
        reference=_unused_reference(session),
        kind=kind,
        status=lead_status.initial_status(kind),
        contact_area=valid.contact_area,
        municipality=valid.municipality,
        area_name=valid.area_name,
        area_kind=valid.area_kind,
        role=valid.role,
        name=valid.name,
        email=valid.email,
        phone=valid.phone,
        organisation=valid.organisation,
        description=valid.description,
        conversation_id=conversation_id,
        conversation_key=lockout.conversation_key(conversation_id),
        client_key=lockout.normalize_client_key(client_key),
        consent_at=valid.consent_at,
        created_at=now,
        updated_at=now,
    )
    lead.events.append(
        LeadEvent(occurred_at=now, event="aangemaakt", to_status=lead.status, actor=VISITOR)
    )
    session.add(lead)
    session.flush()
    return lead


def _existing_booking(session: Session, conversation_id: str, starts_at: datetime) -> Booked | None:
    """The active booking this conversation already made for this slot (a retry)."""
    row = session.execute(
        select(Lead.reference, Booking.starts_at, Booking.ends_at, Lead.contact_area)
        .join(Booking, Booking.lead_id == Lead.id)
        .where(
            Lead.conversation_key == lockout.conversation_key(conversation_id),
            Booking.starts_at == starts_at,
        )
    ).first()
    if row is None:
        return None
    reference, start, end, area = row
    return Booked(reference, start, end, area.value if area else "", created=False)


def _upcoming_load(session: Session, facilitator_ids: list[int], now: datetime) -> dict[int, int]:
    rows = session.execute(
        select(Booking.facilitator_id, func.count())
        .where(Booking.facilitator_id.in_(facilitator_ids), Booking.starts_at >= now)
        .group_by(Booking.facilitator_id)
    )
    return dict(rows.tuples().all())


def _rules_version(session: Session, facilitator_id: int) -> int:
    # The claim was computed from the current rules: say so (see kvo/availability.py).
    return (
        session.scalar(select(Facilitator.rules_version).where(Facilitator.id == facilitator_id))
        or 0
    )


def _try_claim(
    session: Session, lead_id: int, facilitator_id: int, starts_at: datetime, ends_at: datetime
) -> bool:
    """Insert the slot claim in a savepoint; False when the database says it is taken."""
    try:
        with session.begin_nested():
            session.add(
                Booking(
                    lead_id=lead_id,
                    facilitator_id=facilitator_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    rules_version=_rules_version(session, facilitator_id),
                )
            )
    except IntegrityError:
        return False
    return True


def _alternatives(
    session: Session, area: ContactArea, now: datetime, settings: Settings
) -> SlotTaken:
    return SlotTaken(free_slots(session, area, now, count=ALTERNATIVES, settings=settings))


# --- booking and callback ------------------------------------------------------------


def finalize_booking(
    session: Session,
    fields: LeadFields,
    slot_start: datetime,
    conversation_id: str,
    client_key: str | None,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> BookingOutcome:
    """Book the intake the visitor confirmed, at ``slot_start`` (a :attr:`Slot.starts_at`).

    Picks a free facilitator of the visitor's contact area (the least booked one),
    stores the lead as "gepland" with its booking, queues the notifications and
    discards the conversation's draft, all in the caller's transaction.
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    slot_start = ensure_utc(slot_start)

    existing = _existing_booking(session, conversation_id, slot_start)
    if existing is not None:
        discard_draft(session, conversation_id)
        return existing

    valid = validate_lead_fields(fields, LeadKind.INTAKE, settings=settings)
    if isinstance(valid, InvalidFields):
        return valid
    area = valid.contact_area
    if area is None:  # validation guarantees an in-region municipality
        return InvalidFields(("municipality",))
    if _over_limit(session, LeadKind.INTAKE, valid, client_key, now, settings):
        logger.info("intake.limit_reached")
        return LimitReached()

    candidates = free_facilitators_at(session, area, slot_start, now, settings=settings)
    if not candidates:
        return _alternatives(session, area, now, settings)
    load = _upcoming_load(session, [f for f, _ in candidates], now)
    candidates.sort(key=lambda candidate: (load.get(candidate[0], 0), candidate[0]))

    # The lead's INSERT comes first on purpose: it opens the transaction (the sqlite3 driver
    # starts one only at the first write) that the claims' savepoints live in.
    lead = _new_lead(session, LeadKind.INTAKE, valid, conversation_id, client_key, now)
    for facilitator_id, ends_at in candidates:
        if _try_claim(session, lead.id, facilitator_id, slot_start, ends_at):
            break
        # Lost a race. Was it against our own retry? Then that booking is the answer.
        existing = _existing_booking(session, conversation_id, slot_start)
        if existing is not None:
            session.delete(lead)
            session.flush()
            discard_draft(session, conversation_id)
            return existing
    else:
        session.delete(lead)
        session.flush()
        logger.info("intake.slot_taken")
        return _alternatives(session, area, now, settings)

    session.refresh(lead, ["booking"])
    booking = lead.booking
    assert booking is not None  # just claimed
    lead.facilitator_id = booking.facilitator_id
    lead.slot_start, lead.slot_end = booking.starts_at, booking.ends_at
    session.flush()
    outbox.notify_new_booking(session, lead, now, settings)
    discard_draft(session, conversation_id)
    session.flush()
    logger.info("intake.booked lead_id=%s", lead.id)
    return Booked(lead.reference, booking.starts_at, booking.ends_at, area.value)


def request_callback(
    session: Session,
    fields: LeadFields,
    conversation_id: str,
    client_key: str | None,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> CallbackOutcome:
    """Store a callback request (lead kind "terugbelverzoek", status "nieuw").

    A retry from the same conversation while its earlier request is still open
    returns that request (``created`` False).
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    existing = session.scalar(
        select(Lead.reference).where(
            Lead.conversation_key == lockout.conversation_key(conversation_id),
            Lead.kind == LeadKind.CALLBACK,
            Lead.status.in_(lead_status.OPEN_STATUSES),
        )
    )
    if existing is not None:
        discard_draft(session, conversation_id)
        return CallbackRequested(existing, created=False)
    valid = validate_lead_fields(fields, LeadKind.CALLBACK, settings=settings)
    if isinstance(valid, InvalidFields):
        return valid
    if _over_limit(session, LeadKind.CALLBACK, valid, client_key, now, settings):
        logger.info("callback.limit_reached")
        return LimitReached()
    lead = _new_lead(session, LeadKind.CALLBACK, valid, conversation_id, client_key, now)
    outbox.notify_new_callback(session, lead, now)
    discard_draft(session, conversation_id)
    session.flush()
    logger.info("callback.requested lead_id=%s", lead.id)
    return CallbackRequested(lead.reference)


# --- cancel and move -----------------------------------------------------------------

# Compared against when the reference is unknown, so both paths do the same work.
_NO_MATCH = "\x00" * 32


def _matches(given: str | None, stored: str | None) -> bool:
    return hmac.compare_digest((given or "").encode("utf-8"), (stored or _NO_MATCH).encode("utf-8"))


def _authorised_lead(
    session: Session,
    reference_text: str | None,
    contact_text: str | None,
    conversation_id: str,
    now: datetime,
    settings: Settings,
    *,
    client_key: str | None,
    for_update: bool,
) -> Lead | NotFound | LockedOut:
    """The lead, when the reference and the address (or phone) match; the status check's rule.

    The attempt is reserved in the lockout first (which commits, like the status check): it
    stays a failure unless the details match, so concurrent guesses cannot exceed the limit.
    """
    reference = normalize_booking_reference(reference_text)
    reference_key = reference or lockout.UNPARSEABLE_REFERENCE_KEY
    reservation = lockout.reserve_attempt(
        session, reference_key, conversation_id, now, settings, client_key=client_key
    )
    if isinstance(reservation, lockout.Refused):
        return LockedOut(reservation.until)
    query = select(Lead).where(Lead.reference == (reference or ""))
    if for_update:
        query = query.with_for_update()
    lead = session.scalars(query).one_or_none() if reference else None
    email = normalize_email(contact_text)
    phone = normalize_phone(contact_text)
    stored_email = lead.email if lead else None
    stored_phone = lead.phone if lead else None
    # Both comparisons always run: the same work for every outcome.
    email_ok = _matches(email, stored_email) and email is not None
    phone_ok = _matches(phone.e164 if phone else None, stored_phone) and phone is not None
    if lead is None or lead.erased_at is not None or not (email_ok or phone_ok):
        # The reserved attempt stays behind as the failure.
        logger.info("intake.access_denied")
        return NotFound()
    lockout.release_attempt(session, reservation)
    return lead


def _can_cancel(lead: Lead, now: datetime) -> str | None:
    """None when the visitor may cancel, else the reason."""
    if lead.status in lead_status.FINAL_STATUSES - {LeadStatus.GEANNULEERD}:
        return lead.status.value
    if lead.slot_start is not None and lead.slot_start <= now:
        return "voorbij"
    return None


def _can_move(lead: Lead, now: datetime) -> str | None:
    if lead.kind is not LeadKind.INTAKE or lead.booking is None:
        return (
            "geen_afspraak" if lead.status not in lead_status.FINAL_STATUSES else lead.status.value
        )
    if lead.slot_start is not None and lead.slot_start <= now:
        return "voorbij"
    return None


def verify_booking(
    session: Session,
    reference_text: str | None,
    contact_text: str | None,
    conversation_id: str,
    now: datetime | None = None,
    *,
    client_key: str | None = None,
    settings: Settings | None = None,
) -> AccessOutcome:
    """Check a reference + e-mail address (or phone) before offering cancel or move."""
    settings = settings or get_settings()
    now = ensure_utc(now)
    found = _authorised_lead(
        session,
        reference_text,
        contact_text,
        conversation_id,
        now,
        settings,
        client_key=client_key,
        for_update=False,
    )
    if not isinstance(found, Lead):
        return found
    lead = found
    return BookingFound(
        reference=lead.reference,
        kind=lead.kind.value,
        status=lead.status.value,
        starts_at=lead.slot_start,
        ends_at=lead.slot_end,
        contact_area=lead.contact_area.value if lead.contact_area else None,
        can_cancel=lead.status is not LeadStatus.GEANNULEERD and _can_cancel(lead, now) is None,
        can_move=_can_move(lead, now) is None,
    )


def cancel_booking(
    session: Session,
    reference_text: str | None,
    contact_text: str | None,
    conversation_id: str,
    now: datetime | None = None,
    *,
    client_key: str | None = None,
    settings: Settings | None = None,
) -> CancelOutcome:
    """Cancel an intake booking (or withdraw a callback request); frees the slot."""
    settings = settings or get_settings()
    now = ensure_utc(now)
    found = _authorised_lead(
        session,
        reference_text,
        contact_text,
        conversation_id,
        now,
        settings,
        client_key=client_key,
        for_update=True,
    )
    if not isinstance(found, Lead):
        return found
    lead = found
    if lead.status is LeadStatus.GEANNULEERD:
        return Cancelled(lead.reference, lead.slot_start, lead.slot_end, already=True)
    reason = _can_cancel(lead, now)
    if reason is not None:
        return NotChangeable(reason)
    apply_cancellation(session, lead, now, actor=VISITOR, by_visitor=True, settings=settings)
    logger.info("intake.cancelled lead_id=%s", lead.id)
    return Cancelled(lead.reference, lead.slot_start, lead.slot_end)


def apply_cancellation(
    session: Session,
    lead: Lead,
    now: datetime,
    *,
    actor: str,
    by_visitor: bool,
    to_status: LeadStatus = LeadStatus.GEANNULEERD,
    settings: Settings | None = None,
) -> None:
    """Set the status, free the slot, raise the calendar SEQUENCE and queue the mails."""
    lead_status.check_transition(lead.status, to_status)
    facilitator_id = lead.booking.facilitator_id if lead.booking else lead.facilitator_id
    had_slot = lead.booking is not None
    lead.events.append(
        LeadEvent(
            occurred_at=now,
            event="geannuleerd" if to_status is LeadStatus.GEANNULEERD else "status",
            from_status=lead.status,
            to_status=to_status,
            actor=actor,
        )
    )
    lead.status = to_status
    lead.updated_at = now
    if had_slot:
        lead.booking = None  # delete-orphan: the slot is free again
        lead.ics_sequence += 1
    session.flush()
    if had_slot or lead.kind is LeadKind.CALLBACK:
        outbox.notify_cancelled(
            session,
            lead,
            now,
            facilitator_id=facilitator_id if had_slot else None,
            by_visitor=by_visitor,
        )
    else:
        outbox.cancel_pending(session, lead.id, outbox.REMINDER_KINDS)
    session.flush()


def move_booking(
    session: Session,
    reference_text: str | None,
    contact_text: str | None,
    new_start: datetime,
    conversation_id: str,
    now: datetime | None = None,
    *,
    client_key: str | None = None,
    settings: Settings | None = None,
) -> MoveOutcome:
    """Move an intake to another free slot of its contact area (``new_start`` from a Slot)."""
    settings = settings or get_settings()
    now = ensure_utc(now)
    new_start = ensure_utc(new_start)
    found = _authorised_lead(
        session,
        reference_text,
        contact_text,
        conversation_id,
        now,
        settings,
        client_key=client_key,
        for_update=True,
    )
    if not isinstance(found, Lead):
        return found
    lead = found
    reason = _can_move(lead, now)
    if reason is not None:
        return NotChangeable(reason)
    booking = lead.booking
    assert booking is not None and lead.contact_area is not None  # _can_move checked
    old_start, old_end, old_facilitator = booking.starts_at, booking.ends_at, booking.facilitator_id
    if new_start == old_start:
        return Moved(lead.reference, old_start, old_start, old_end)

    area = lead.contact_area
    candidates = free_facilitators_at(session, area, new_start, now, settings=settings)
    # A write before the savepoint below: the sqlite3 driver opens its transaction only at the
    # first write, and a SAVEPOINT outside a transaction would commit on its own release.
    lead.updated_at = now
    session.flush()
    # Keep the same facilitator when possible.
    candidates.sort(key=lambda candidate: candidate[0] != old_facilitator)
    for facilitator_id, ends_at in candidates:
        try:
            with session.begin_nested():
                booking.facilitator_id = facilitator_id
                booking.starts_at = new_start
                booking.ends_at = ends_at
                booking.rules_version = _rules_version(session, facilitator_id)
                session.flush()
        except IntegrityError:
            session.refresh(booking)
            continue
        break
    else:
        logger.info("intake.move_slot_taken")
        return _alternatives(session, area, now, settings)

    lead.facilitator_id = booking.facilitator_id
    lead.slot_start, lead.slot_end = booking.starts_at, booking.ends_at
    lead.ics_sequence += 1
    lead.updated_at = now
    lead.events.append(LeadEvent(occurred_at=now, event="verplaatst", actor=VISITOR))
    session.flush()
    outbox.notify_moved(
        session,
        lead,
        now,
        old_start=old_start,
        old_end=old_end,
        old_facilitator_id=old_facilitator,
        settings=settings,
    )
    session.flush()
    logger.info("intake.moved lead_id=%s", lead.id)
    return Moved(lead.reference, old_start, booking.starts_at, booking.ends_at)
