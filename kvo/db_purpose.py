"""What a database is for: only a database marked as a demo database gets demo or bench data.

Loading demo data rewrites trajectories and resets their access codes to the documented ones;
on a real database that destroys data. So the loaders refuse unless ``kvo_meta`` says
``purpose = demo``. An operator marks a database explicitly (``python -m kvo db mark-demo``),
or ``demo load --create-demo`` marks one that holds nothing but generated data: empty, or only
what the demo and benchmark loaders made (``make run`` relies on that for var/kvo.sqlite3).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from kvo.errors import NotADemoDatabase, RealDataPresent
from kvo.models import Area, AvailabilityRule, Base, Facilitator, KvoMeta, Trajectory

PURPOSE_KEY = "purpose"
DEMO = "demo"

# Tables whose rows say nothing about what the database is for, or that belong to a
# trajectory (checked through the trajectory).
_NOT_DATA = {"kvo_meta", "failed_attempts", "phase_events", "convenant_signatures"}


def database_purpose(session: Session) -> str | None:
    meta = session.get(KvoMeta, PURPOSE_KEY)
    return meta.value if meta else None


def is_demo_database(session: Session) -> bool:
    return database_purpose(session) == DEMO


def require_demo_database(session: Session) -> None:
    """Raise NotADemoDatabase unless the database is marked as a demo database."""
    if not is_demo_database(session):
        raise NotADemoDatabase()


def _scalar_count(session: Session, table: type[Base] | Table, *where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(table).where(*where)) or 0


def real_data_rows(session: Session) -> int:
    """How many rows no demo or benchmark loader made (0: empty or only generated data).

    A demo reference alone is not enough: a real trajectory may carry the same number, so its
    area must match the demo definition as well.
    """
    # Imported here: the loaders import this module for their guard.
    from kvo.bench_data import BENCH_AREA_PREFIX, BENCH_FACILITATOR_EMAILS, bench_reference
    from kvo.demo_data import DEMO_FACILITATORS, DEMO_TRAJECTORIES

    demo_area = or_(
        *(
            and_(Area.name == demo.area_name, Area.municipality == demo.municipality)
            for demo in DEMO_TRAJECTORIES
        )
    )
    bench_area = Area.name.startswith(BENCH_AREA_PREFIX)
    generated_trajectory = or_(
        *(
            and_(
                Trajectory.reference == demo.reference,
                Area.name == demo.area_name,
                Area.municipality == demo.municipality,
            )
            for demo in DEMO_TRAJECTORIES
        ),
        and_(Trajectory.reference >= bench_reference(0), bench_area),
    )
    count = (
        session.scalar(
            select(func.count())
            .select_from(Trajectory)
            .join(Area, Trajectory.area_id == Area.id)
            .where(not_(generated_trajectory))
        )
        or 0
    )
    count += _scalar_count(session, Area, not_(or_(demo_area, bench_area)))
    demo_emails = [facilitator.email for facilitator in DEMO_FACILITATORS]
    generated_facilitator = or_(
        Facilitator.email.in_(demo_emails),
        Facilitator.email.like(BENCH_FACILITATOR_EMAILS),
    )
    count += _scalar_count(session, Facilitator, not_(generated_facilitator))
    # The demo facilitators' weekly intake hours come with them.
    generated_ids = select(Facilitator.id).where(generated_facilitator)
    count += _scalar_count(
        session, AvailabilityRule, AvailabilityRule.facilitator_id.not_in(generated_ids)
    )
    known = {"areas", "facilitators", "trajectories", "availability_rules", *_NOT_DATA}
    for table in Base.metadata.sorted_tables:
        # Tables of later features (leads, users, ...): any row there is real data.
        if table.name not in known:
            count += _scalar_count(session, table)
    return count


def mark_demo(session: Session, *, allow_real_data: bool = False) -> bool:
    """Mark the database as a demo database; returns False when it already was one.

    Refuses (RealDataPresent) when it holds data no loader made, unless ``allow_real_data``
    (the operator confirmed it). Flushes; the caller commits.
    """
    meta = session.get(KvoMeta, PURPOSE_KEY)
    if meta is not None and meta.value == DEMO:
        return False
    if not allow_real_data:
        rows = real_data_rows(session)
        if rows:
            raise RealDataPresent(rows)
    if meta is None:
        session.add(KvoMeta(key=PURPOSE_KEY, value=DEMO))
    else:
        meta.value = DEMO
    session.flush()
    return True
