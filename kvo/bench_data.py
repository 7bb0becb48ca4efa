"""Synthetic trajectories in bulk, for load tests and the status benchmark.

References use the years 2060 and later, so they never collide with demo data.
All rows share one access code hash (hashing thousands of codes would take
minutes and measures nothing); the code is ``BENCH_ACCESS_CODE``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from kvo import access_codes
from kvo.db_purpose import require_demo_database
from kvo.models import (
    Area,
    AreaKind,
    ContactArea,
    ConvenantSignature,
    Facilitator,
    PhaseEvent,
    Province,
    Stakeholder,
    Trajectory,
    TrajectoryKind,
)
from kvo.references import MAX_NUMBER, format_reference
from kvo.settings import Settings

BENCH_ACCESS_CODE = "BNCH-2345"
BENCH_FIRST_YEAR = 2060
BENCH_AREA_PREFIX = "Benchmarkgebied "
BENCH_FACILITATOR_EMAILS = "bench-%@example.org"  # a LIKE pattern
_AREAS = 500
_FACILITATORS = 25
_BATCH = 1000


def bench_reference(index: int) -> str:
    """The i-th (0-based) benchmark reference: KVO-2060-0001, ..., KVO-2061-0001, ..."""
    year, number = divmod(index, MAX_NUMBER)
    return format_reference(BENCH_FIRST_YEAR + year, number + 1)


def _existing_count(session: Session) -> int:
    first = bench_reference(0)
    query = select(func.count()).select_from(Trajectory).where(Trajectory.reference >= first)
    return session.scalar(query) or 0


def _ensure_support_rows(session: Session) -> tuple[list[int], list[int]]:
    area_ids = list(session.scalars(select(Area.id).where(Area.name.startswith(BENCH_AREA_PREFIX))))
    if not area_ids:
        kinds = list(AreaKind)
        provinces = list(Province)
        session.execute(
            insert(Area),
            [
                {
                    "name": f"{BENCH_AREA_PREFIX}{i:04d}",
                    "kind": kinds[i % len(kinds)],
                    "municipality": f"Benchmarkgemeente {i % 60:02d}",
                    "province": provinces[i % len(provinces)],
                    "contact_area": list(ContactArea)[i % len(ContactArea)],
                }
                for i in range(_AREAS)
            ],
        )
        area_ids = list(
            session.scalars(select(Area.id).where(Area.name.startswith(BENCH_AREA_PREFIX)))
        )
    facilitator_ids = list(
        session.scalars(
            select(Facilitator.id).where(Facilitator.email.like(BENCH_FACILITATOR_EMAILS))
        )
    )
    if not facilitator_ids:
        session.execute(
            insert(Facilitator),
            [
                {
                    "name": f"Benchmark Begeleider {i:02d}",
                    "contact_area": list(ContactArea)[i % len(ContactArea)],
                    "email": f"bench-{i:02d}@example.org",
                }
                for i in range(_FACILITATORS)
            ],
        )
        facilitator_ids = list(
            session.scalars(
                select(Facilitator.id).where(Facilitator.email.like(BENCH_FACILITATOR_EMAILS))
            )
        )
    return area_ids, facilitator_ids


def _trajectory_row(
    index: int, rng: random.Random, area_ids: list[int], facilitator_ids: list[int], code_hash: str
) -> dict[str, Any]:
    phase = rng.randint(1, 5)
    today = date.today()
    issued = today - timedelta(days=rng.randint(0, 1200)) if phase == 5 else None
    return {
        "reference": bench_reference(index),
        "area_id": rng.choice(area_ids),
        "kind": rng.choice(list(TrajectoryKind)),
        "target_stars": rng.randint(1, 4),
        "current_phase": phase,
        "survey_response_rate": round(rng.uniform(0, 60), 1) if phase >= 2 else None,
        "survey_required_rate": 30.0 if phase >= 2 else None,
        "schouw_date": today - timedelta(days=rng.randint(0, 400)) if phase >= 2 else None,
        "audit_date": today + timedelta(days=rng.randint(-30, 60)) if phase >= 4 else None,
        "certificate_issued_on": issued,
        "certificate_expires_on": issued + timedelta(days=3 * 365) if issued else None,
        "facilitator_id": rng.choice(facilitator_ids),
        "next_step": "Volgende werkgroepoverleg plannen",
        "next_step_owner": "Werkgroep KVO",
        "access_code_hash": code_hash,
    }


def _batches(start: int, stop: int) -> Iterator[range]:
    for low in range(start, stop, _BATCH):
        yield range(low, min(low + _BATCH, stop))


def generate_bench_data(
    session: Session,
    count: int,
    *,
    settings: Settings | None = None,
    seed: int = 2024,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Make sure ``count`` benchmark trajectories exist; returns how many were added.

    Each gets 1-5 phase events and four convenant signatures. Commits per batch
    so that large runs do not hold one huge transaction.
    Only into a database marked as a demo database (kvo.db_purpose): raises NotADemoDatabase.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    require_demo_database(session)
    start = _existing_count(session)
    if start >= count:
        return 0
    rng = random.Random(seed + start)  # noqa: S311 - synthetic data, not security
    code_hash = access_codes.hash_code(BENCH_ACCESS_CODE, settings)
    area_ids, facilitator_ids = _ensure_support_rows(session)
    stakeholders = (
        Stakeholder.GEMEENTE,
        Stakeholder.ONDERNEMERS,
        Stakeholder.POLITIE,
        Stakeholder.BRANDWEER,
    )
    for batch in _batches(start, count):
        rows = [_trajectory_row(i, rng, area_ids, facilitator_ids, code_hash) for i in batch]
        session.execute(insert(Trajectory), rows)
        ids: dict[str, int] = {
            reference: trajectory_id
            for reference, trajectory_id in session.execute(
                select(Trajectory.reference, Trajectory.id).where(
                    Trajectory.reference.in_([row["reference"] for row in rows])
                )
            )
        }
        events, signatures = [], []
        for row in rows:
            trajectory_id = ids[row["reference"]]
            started = date.today() - timedelta(days=100 * row["current_phase"])
            for phase in range(1, row["current_phase"] + 1):
                begin = started + timedelta(days=100 * (phase - 1))
                done = begin + timedelta(days=100) if phase < row["current_phase"] else None
                events.append(
                    {
                        "trajectory_id": trajectory_id,
                        "phase": phase,
                        "started_on": begin,
                        "completed_on": done,
                    }
                )
            for stakeholder in stakeholders:
                signatures.append(
                    {
                        "trajectory_id": trajectory_id,
                        "stakeholder": stakeholder,
                        "party_name": f"{stakeholder.value.capitalize()} partner",
                        "signed_on": started + timedelta(days=30),
                    }
                )
        session.execute(insert(PhaseEvent), events)
        session.execute(insert(ConvenantSignature), signatures)
        session.commit()
        if progress:
            progress(batch.stop, count)
    return count - start
