"""Staff operations on trajectories (used by the CLI and the staff API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from kvo import access_codes
from kvo.errors import InvalidReference, KvoError, ReservedReference, UnknownReference
from kvo.models import (
    Area,
    AreaKind,
    ContactArea,
    Facilitator,
    PhaseChange,
    PhaseEvent,
    Province,
    Trajectory,
    TrajectoryKind,
)
from kvo.phases import FIRST_PHASE, LAST_PHASE, phase_name
from kvo.references import EXAMPLE_REFERENCE, normalize_reference
from kvo.settings import Settings
from kvo.timeutil import ensure_utc


def check_new_reference(reference_text: str) -> str:
    """The canonical form of a reference a new trajectory may get.

    Raises InvalidReference for text without a reference and ReservedReference for the
    example reference of the bot texts, which must never lead to a real trajectory.
    """
    reference = normalize_reference(reference_text)
    if reference is None:
        raise InvalidReference(reference_text)
    if reference == EXAMPLE_REFERENCE:
        raise ReservedReference(reference)
    return reference


def rotate_access_code(
    session: Session, reference_text: str, *, settings: Settings | None = None
) -> tuple[str, str]:
    """Give a trajectory a new access code; returns (reference, new code as XXXX-XXXX).

    The old code stops working at commit. The new code exists only in the return
    value: show it once, never log it.
    """
    reference = normalize_reference(reference_text)
    if reference is None:
        raise InvalidReference(reference_text)
    trajectory = session.execute(
        select(Trajectory).where(Trajectory.reference == reference).with_for_update()
    ).scalar_one_or_none()
    if trajectory is None:
        raise UnknownReference(reference)
    code, code_hash = access_codes.new_code_and_hash(settings)
    trajectory.access_code_hash = code_hash
    session.flush()
    return reference, code


# --- staff API: list, detail, create, update, phase changes ------------------------------

MAX_TRAJECTORY_PAGE = 200


@dataclass(frozen=True)
class TrajectoryRow:
    id: int
    reference: str
    area_name: str
    municipality: str
    area_kind: str
    contact_area: str
    kind: str
    target_stars: int
    current_phase: int
    phase_name: str
    facilitator_id: int | None
    facilitator_name: str | None
    next_step: str | None
    updated_at: datetime


@dataclass(frozen=True)
class PhaseChangeRecord:
    from_phase: int
    to_phase: int
    effective_on: date
    changed_at: datetime
    author: str


@dataclass(frozen=True)
class TrajectoryDetail:
    row: TrajectoryRow
    next_step_owner: str | None
    survey_response_rate: float | None
    survey_required_rate: float | None
    schouw_date: date | None
    audit_date: date | None
    certificate_issued_on: date | None
    certificate_expires_on: date | None
    phases: tuple[tuple[int, date, date | None], ...]  # (phase, started_on, completed_on)
    phase_changes: tuple[PhaseChangeRecord, ...]


@dataclass(frozen=True)
class TrajectoryPage:
    items: tuple[TrajectoryRow, ...]
    total: int
    page: int
    page_size: int


@dataclass(frozen=True)
class NewTrajectory:
    reference: str
    area_name: str
    municipality: str
    area_kind: AreaKind
    province: Province
    contact_area: ContactArea
    kind: TrajectoryKind
    target_stars: int
    started_on: date
    facilitator_id: int | None = None
    next_step: str | None = None
    next_step_owner: str | None = None


class TrajectoryError(KvoError, ValueError):
    """A trajectory change the rules refuse (message in Dutch, for staff)."""


# Fields staff may set directly; the phase goes through change_phase (it keeps a history).
UPDATABLE_FIELDS = frozenset(
    {
        "target_stars",
        "survey_response_rate",
        "survey_required_rate",
        "schouw_date",
        "audit_date",
        "certificate_issued_on",
        "certificate_expires_on",
        "facilitator_id",
        "next_step",
        "next_step_owner",
    }
)


def _trajectory_row(t: Trajectory) -> TrajectoryRow:
    return TrajectoryRow(
        id=t.id,
        reference=t.reference,
        area_name=t.area.name,
        municipality=t.area.municipality,
        area_kind=t.area.kind.value,
        contact_area=t.area.contact_area.value,
        kind=t.kind.value,
        target_stars=t.target_stars,
        current_phase=t.current_phase,
        phase_name=phase_name(t.current_phase),
        facilitator_id=t.facilitator_id,
        facilitator_name=t.facilitator.name if t.facilitator else None,
        next_step=t.next_step,
        updated_at=t.updated_at,
    )


def list_trajectories(
    session: Session,
    *,
    phase: int | None = None,
    contact_area: ContactArea | None = None,
    page: int = 1,
    page_size: int = 50,
) -> TrajectoryPage:
    page = max(1, page)
    size = min(max(1, page_size), MAX_TRAJECTORY_PAGE)
    conditions = []
    if phase is not None:
        conditions.append(Trajectory.current_phase == phase)
    if contact_area is not None:
        conditions.append(Area.contact_area == contact_area)
    base = select(Trajectory).join(Area, Area.id == Trajectory.area_id).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(
        base.options(joinedload(Trajectory.area), joinedload(Trajectory.facilitator))
        .order_by(Trajectory.reference)
        .limit(size)
        .offset((page - 1) * size)
    )
    return TrajectoryPage(tuple(_trajectory_row(t) for t in rows), total, page, size)


def get_trajectory(session: Session, trajectory_id: int) -> TrajectoryDetail | None:
    t = session.get(Trajectory, trajectory_id)
    if t is None:
        return None
    changes = session.scalars(
        select(PhaseChange)
        .where(PhaseChange.trajectory_id == trajectory_id)
        .order_by(PhaseChange.id)
    )
    return TrajectoryDetail(
        row=_trajectory_row(t),
        next_step_owner=t.next_step_owner,
        survey_response_rate=t.survey_response_rate,
        survey_required_rate=t.survey_required_rate,
        schouw_date=t.schouw_date,
        audit_date=t.audit_date,
        certificate_issued_on=t.certificate_issued_on,
        certificate_expires_on=t.certificate_expires_on,
        phases=tuple((e.phase, e.started_on, e.completed_on) for e in t.phase_events),
        phase_changes=tuple(
            PhaseChangeRecord(c.from_phase, c.to_phase, c.effective_on, c.changed_at, c.author)
            for c in changes
        ),
    )


def _check_facilitator(session: Session, facilitator_id: int | None) -> None:
    if facilitator_id is not None and session.get(Facilitator, facilitator_id) is None:
        raise TrajectoryError("onbekende procesbegeleider")


def create_trajectory(
    session: Session, new: NewTrajectory, *, settings: Settings | None = None
) -> tuple[int, str]:
    """A new trajectory in phase 1; returns (id, access code to show once)."""
    reference = check_new_reference(new.reference)
    if session.scalar(select(Trajectory.id).where(Trajectory.reference == reference)):
        raise TrajectoryError("deze referentie bestaat al")
    _check_facilitator(session, new.facilitator_id)
    area = session.scalars(
        select(Area).where(Area.name == new.area_name, Area.municipality == new.municipality)
    ).one_or_none()
    if area is None:
        area = Area(
            name=new.area_name,
            municipality=new.municipality,
            kind=new.area_kind,
            province=new.province,
            contact_area=new.contact_area,
        )
        session.add(area)
    code, code_hash = access_codes.new_code_and_hash(settings)
    trajectory = Trajectory(
        reference=reference,
        area=area,
        kind=new.kind,
        target_stars=new.target_stars,
        current_phase=FIRST_PHASE,
        facilitator_id=new.facilitator_id,
        next_step=new.next_step,
        next_step_owner=new.next_step_owner,
        access_code_hash=code_hash,
    )
    trajectory.phase_events = [PhaseEvent(phase=FIRST_PHASE, started_on=new.started_on)]
    session.add(trajectory)
    session.flush()
    return trajectory.id, code


def update_trajectory(session: Session, trajectory_id: int, changes: dict[str, object]) -> bool:
    """Set the given fields; False when the trajectory does not exist."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise TrajectoryError(f"niet te wijzigen: {', '.join(sorted(unknown))}")
    trajectory = session.get(Trajectory, trajectory_id, with_for_update=True)
    if trajectory is None:
        return False
    if "facilitator_id" in changes:
        _check_facilitator(session, changes["facilitator_id"])  # type: ignore[arg-type]
    for name, value in changes.items():
        setattr(trajectory, name, value)
    session.flush()
    return True


def change_phase(
    session: Session,
    trajectory_id: int,
    to_phase: int,
    effective_on: date,
    author: str,
    now: datetime | None = None,
) -> bool:
    """Move a trajectory to another phase from ``effective_on``, keeping the dated history.

    Forward: open earlier phases are completed on that date and the new phase starts.
    Back (a correction): later phases' records go and the phase is open again.
    False when the trajectory does not exist.
    """
    if not FIRST_PHASE <= to_phase <= LAST_PHASE:
        raise TrajectoryError(f"fase moet {FIRST_PHASE} tot en met {LAST_PHASE} zijn")
    trajectory = session.get(Trajectory, trajectory_id, with_for_update=True)
    if trajectory is None:
        return False
    from_phase = trajectory.current_phase
    if to_phase == from_phase:
        raise TrajectoryError("het traject is al in deze fase")
    events = {e.phase: e for e in trajectory.phase_events}
    if to_phase > from_phase:
        for phase, event in events.items():
            if phase < to_phase and event.completed_on is None:
                if effective_on < event.started_on:
                    raise TrajectoryError("de datum ligt voor het begin van de huidige fase")
                event.completed_on = effective_on
        if to_phase in events:
            events[to_phase].started_on = effective_on
            events[to_phase].completed_on = None
        else:
            trajectory.phase_events.append(PhaseEvent(phase=to_phase, started_on=effective_on))
    else:
        for phase, event in events.items():
            if phase > to_phase:
                trajectory.phase_events.remove(event)
        if to_phase in events:
            events[to_phase].completed_on = None
        else:
            trajectory.phase_events.append(PhaseEvent(phase=to_phase, started_on=effective_on))
    trajectory.current_phase = to_phase
    session.add(
        PhaseChange(
            trajectory_id=trajectory.id,
            from_phase=from_phase,
            to_phase=to_phase,
            effective_on=effective_on,
            changed_at=ensure_utc(now),
            author=author,
        )
    )
    session.flush()
    return True


def rotate_access_code_by_id(
    session: Session, trajectory_id: int, *, settings: Settings | None = None
) -> tuple[str, str] | None:
    """Like rotate_access_code, by id; None when the trajectory does not exist."""
    reference = session.scalar(select(Trajectory.reference).where(Trajectory.id == trajectory_id))
    if reference is None:
        return None
    return rotate_access_code(session, reference, settings=settings)
