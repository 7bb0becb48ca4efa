"""The status lookup used by the chat: reference + access code -> status report.

The outcome never reveals whether a reference exists: an unknown reference
and a wrong code give the same ``Denied()``, cost one argon2 verify each and
count towards the same lockout (kvo.lockout).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Union

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from kvo import access_codes, lockout
from kvo.certificates import CertificateState, certificate_state
from kvo.models import Trajectory
from kvo.phases import phase_name
from kvo.references import normalize_reference
from kvo.settings import Settings, get_settings
from kvo.timeutil import ensure_utc, local_date


@dataclass(frozen=True)
class PhaseRecord:
    phase: int
    name: str
    started_on: date
    completed_on: date | None


@dataclass(frozen=True)
class SignatureRecord:
    stakeholder: str  # gemeente | ondernemers | politie | brandweer | overig
    party: str
    signed_on: date | None


@dataclass(frozen=True)
class StatusReport:
    """Plain values for the chat action to phrase; no ORM objects inside."""

    reference: str
    area_name: str
    area_kind: str  # winkelgebied | bedrijventerrein | buitengebied
    municipality: str
    province: str
    trajectory_kind: str  # eerste_certificering | hercertificering
    target_stars: int
    current_phase: int
    phase_name: str
    current_phase_started_on: date | None
    completed_phases: tuple[PhaseRecord, ...]
    convenant_signatures: tuple[SignatureRecord, ...]
    survey_response_rate: float | None
    survey_required_rate: float | None
    schouw_date: date | None
    audit_date: date | None
    certificate_issued_on: date | None
    certificate_expires_on: date | None
    certificate_state: CertificateState | None
    next_step: str | None
    next_step_owner: str | None
    facilitator_name: str | None


@dataclass(frozen=True)
class Granted:
    report: StatusReport


@dataclass(frozen=True)
class Denied:
    """Unknown reference or wrong code: deliberately indistinguishable."""


@dataclass(frozen=True)
class LockedOut:
    until: datetime  # aware UTC; convert to the settings' time zone to show it


StatusOutcome = Union[Granted, Denied, LockedOut]  # noqa: UP007 - runtime alias on 3.10


def _trajectory_query(reference: str) -> Select[tuple[Trajectory]]:
    # One statement: the unique index on reference plus joins for everything the
    # report shows (phases x signatures stays a few dozen rows at most).
    return (
        select(Trajectory)
        .where(Trajectory.reference == reference)
        .options(
            joinedload(Trajectory.area),
            joinedload(Trajectory.facilitator),
            joinedload(Trajectory.phase_events),
            joinedload(Trajectory.convenant_signatures),
        )
    )


def _find_trajectory(session: Session, reference: str) -> Trajectory | None:
    return session.execute(_trajectory_query(reference)).unique().scalar_one_or_none()


def _to_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def build_report(trajectory: Trajectory, today: date) -> StatusReport:
    """Copy a loaded trajectory into a plain, immutable report."""
    events = sorted(trajectory.phase_events, key=lambda event: event.phase)
    current = next((e for e in events if e.phase == trajectory.current_phase), None)
    area = trajectory.area
    return StatusReport(
        reference=trajectory.reference,
        area_name=area.name,
        area_kind=area.kind.value,
        municipality=area.municipality,
        province=area.province.value,
        trajectory_kind=trajectory.kind.value,
        target_stars=trajectory.target_stars,
        current_phase=trajectory.current_phase,
        phase_name=phase_name(trajectory.current_phase),
        current_phase_started_on=current.started_on if current else None,
        completed_phases=tuple(
            PhaseRecord(e.phase, phase_name(e.phase), e.started_on, e.completed_on)
            for e in events
            if e.completed_on is not None
        ),
        convenant_signatures=tuple(
            SignatureRecord(s.stakeholder.value, s.party_name, s.signed_on)
            for s in trajectory.convenant_signatures
        ),
        survey_response_rate=_to_float(trajectory.survey_response_rate),
        survey_required_rate=_to_float(trajectory.survey_required_rate),
        schouw_date=trajectory.schouw_date,
        audit_date=trajectory.audit_date,
        certificate_issued_on=trajectory.certificate_issued_on,
        certificate_expires_on=trajectory.certificate_expires_on,
        certificate_state=certificate_state(trajectory.certificate_expires_on, today),
        next_step=trajectory.next_step,
        next_step_owner=trajectory.next_step_owner,
        facilitator_name=trajectory.facilitator.name if trajectory.facilitator else None,
    )


def load_report(session: Session, reference: str, today: date) -> StatusReport | None:
    """The report for a canonical reference, without any access check (staff/internal use)."""
    trajectory = _find_trajectory(session, reference)
    return build_report(trajectory, today) if trajectory else None


def lockout_state(
    session: Session,
    reference_text: str | None,
    conversation_id: str,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    client_key: str | None = None,
) -> datetime | None:
    """When a lock on this reference, conversation or client lifts (UTC), or None.

    Lets the chat say "try again later" before asking for the code.
    """
    reference_key = normalize_reference(reference_text) or lockout.UNPARSEABLE_REFERENCE_KEY
    return lockout.locked_until(
        session, reference_key, conversation_id, now, settings, client_key=client_key
    )


def check_status(
    session: Session,
    reference_text: str | None,
    access_code_text: str | None,
    conversation_id: str,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    client_key: str | None = None,
) -> StatusOutcome:
    """Check a reference and access code typed in a conversation.

    ``client_key`` is the channel's key for the visitor's address (None when unknown: then
    only the reference and conversation limits apply).
    The attempt is reserved and committed before the code is verified (see kvo.lockout), so
    this commits the session; later writes (releasing the reservation, an upgraded hash) are
    flushed: run it inside ``kvo.db.session_scope()``, which commits them.
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    reference = normalize_reference(reference_text)
    reference_key = reference or lockout.UNPARSEABLE_REFERENCE_KEY

    reservation = lockout.reserve_attempt(
        session, reference_key, conversation_id, now, settings, client_key=client_key
    )
    if isinstance(reservation, lockout.Refused):
        return LockedOut(until=reservation.until)

    trajectory = _find_trajectory(session, reference) if reference else None
    stored_hash = trajectory.access_code_hash if trajectory else None
    # Always exactly one argon2 verify (against a dummy hash when unknown).
    if not access_codes.verify_code(access_code_text or "", stored_hash, settings):
        return Denied()  # the reservation stays: it is the failed attempt

    if trajectory is None:  # unreachable: verify_code only matches a real hash
        return Denied()
    lockout.release_attempt(session, reservation)
    if access_codes.needs_rehash(trajectory.access_code_hash, settings):
        trajectory.access_code_hash = access_codes.hash_code(access_code_text or "", settings)
    session.flush()
    return Granted(report=build_report(trajectory, local_date(now, settings.timezone)))
