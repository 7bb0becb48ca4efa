"""Staff operations on process facilitators: list, create, update, weekly hours, blocks.

Free-slot logic stays in kvo/availability.py; this module only edits the data it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from kvo.availability import WeeklyRule, add_blocked_period, set_weekly_rules
from kvo.errors import KvoError
from kvo.models import BlockedPeriod, ContactArea, Facilitator
from kvo.timeutil import ensure_utc


class FacilitatorError(KvoError, ValueError):
    """A facilitator change the rules refuse (message in Dutch, for staff)."""


@dataclass(frozen=True)
class RuleRecord:
    weekday: int
    start_time: time
    end_time: time
    slot_minutes: int


@dataclass(frozen=True)
class BlockRecord:
    id: int
    starts_at: datetime
    ends_at: datetime
    reason: str | None


@dataclass(frozen=True)
class FacilitatorRecord:
    id: int
    name: str
    email: str
    contact_area: str
    active: bool
    rules: tuple[RuleRecord, ...]
    blocks: tuple[BlockRecord, ...]


def _record(session: Session, f: Facilitator) -> FacilitatorRecord:
    blocks = session.scalars(
        select(BlockedPeriod)
        .where(BlockedPeriod.facilitator_id == f.id)
        .order_by(BlockedPeriod.starts_at)
    )
    return FacilitatorRecord(
        id=f.id,
        name=f.name,
        email=f.email,
        contact_area=f.contact_area.value,
        active=f.active,
        rules=tuple(
            RuleRecord(r.weekday, r.start_time, r.end_time, r.slot_minutes)
            for r in f.availability_rules
        ),
        blocks=tuple(BlockRecord(b.id, b.starts_at, b.ends_at, b.reason) for b in blocks),
    )


def list_facilitators(session: Session) -> list[FacilitatorRecord]:
    rows = session.scalars(
        select(Facilitator)
        .options(selectinload(Facilitator.availability_rules))
        .order_by(Facilitator.name, Facilitator.id)
    )
    return [_record(session, f) for f in rows]


def get_facilitator(session: Session, facilitator_id: int) -> FacilitatorRecord | None:
    f = session.get(Facilitator, facilitator_id)
    return _record(session, f) if f is not None else None


def _email_taken(session: Session, email: str, except_id: int | None = None) -> bool:
    found = session.scalar(select(Facilitator.id).where(Facilitator.email == email))
    return found is not None and found != except_id


def _check_rules(rules: list[WeeklyRule]) -> None:
    for rule in rules:
        if not 0 <= rule.weekday <= 6 or rule.end_time <= rule.start_time:
            raise FacilitatorError("ongeldige weekregel (dag 0-6, einde na begin)")
        if not 15 <= rule.slot_minutes <= 480:
            raise FacilitatorError("een afspraak duurt 15 tot 480 minuten")


def create_facilitator(
    session: Session,
    name: str,
    email: str,
    contact_area: ContactArea,
    rules: list[WeeklyRule] | None = None,
    active: bool = True,
) -> FacilitatorRecord:
    email = email.strip().lower()
    if _email_taken(session, email):
        raise FacilitatorError("dit e-mailadres is al in gebruik")
    _check_rules(rules or [])
    facilitator = Facilitator(
        name=name.strip(), email=email, contact_area=contact_area, active=active
    )
    session.add(facilitator)
    session.flush()
    if rules:
        set_weekly_rules(session, facilitator.id, rules)
    session.refresh(facilitator)
    return _record(session, facilitator)


def update_facilitator(
    session: Session,
    facilitator_id: int,
    *,
    name: str | None = None,
    email: str | None = None,
    contact_area: ContactArea | None = None,
    active: bool | None = None,
    rules: list[WeeklyRule] | None = None,
) -> FacilitatorRecord | None:
    """Change the given fields (None = unchanged); existing bookings stay as they are."""
    facilitator = session.get(Facilitator, facilitator_id, with_for_update=True)
    if facilitator is None:
        return None
    if email is not None:
        email = email.strip().lower()
        if _email_taken(session, email, facilitator_id):
            raise FacilitatorError("dit e-mailadres is al in gebruik")
        facilitator.email = email
    if name is not None:
        facilitator.name = name.strip()
    if contact_area is not None:
        facilitator.contact_area = contact_area
    if active is not None:
        facilitator.active = active
    session.flush()
    if rules is not None:
        _check_rules(rules)
        set_weekly_rules(session, facilitator_id, rules)
    session.refresh(facilitator)
    return _record(session, facilitator)


def block_period(
    session: Session,
    facilitator_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str | None = None,
) -> BlockRecord | None:
    if session.get(Facilitator, facilitator_id) is None:
        return None
    starts_at, ends_at = ensure_utc(starts_at), ensure_utc(ends_at)
    if ends_at <= starts_at:
        raise FacilitatorError("het einde moet na het begin liggen")
    block_id = add_blocked_period(session, facilitator_id, starts_at, ends_at, reason)
    return BlockRecord(block_id, starts_at, ends_at, reason)


def remove_block(session: Session, facilitator_id: int, block_id: int) -> bool:
    result = session.execute(
        delete(BlockedPeriod).where(
            BlockedPeriod.id == block_id, BlockedPeriod.facilitator_id == facilitator_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
