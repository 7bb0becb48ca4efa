"""Benchmark the free-slot query of a contact area with 10 facilitators and 6 months of bookings.

    .venv/bin/python bench/free_slots.py [--backend sqlite|postgresql|both] [--n 500]

For each backend a fresh database (a temp SQLite file, or a throwaway PostgreSQL
database next to TEST_POSTGRES_URL, dropped afterwards) is migrated and filled:
10 facilitators in "Zeeland en West-Brabant" (Monday to Friday 09:00-12:00 and
13:00-17:00, 60-minute slots), 10 more in "Oost-Brabant" as neighbours, and
bookings for the next 26 weeks. Two scenarios are timed, with the default
settings (booking horizon 90 days):

- "busy": a random 90% of all slots of the 26 weeks booked, as in a popular season;
  the query finds three free slots;
- "full": every slot of the 26 weeks booked: the query searches the whole 90-day
  horizon and finds nothing (the worst case; the chat then offers a callback).

Each timed call is ``kvo.availability.free_slots(session, area, now, count=3)``,
what the chat does before it offers three slots. Goal: p95 <= 30 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from kvo import migrate
from kvo.access_codes import ALPHABET
from kvo.availability import free_slots
from kvo.db import make_engine, make_sessionmaker, safe_url
from kvo.models import (
    AvailabilityRule,
    Booking,
    ContactArea,
    Facilitator,
    Lead,
    LeadKind,
    LeadStatus,
)
from kvo.scratch_db import (
    DEFAULT_TEST_POSTGRES_URL,
    PostgresUnavailable,
    throwaway_postgres_database,
)
from kvo.settings import Settings

FACILITATORS = 10
WEEKS = 26
WARMUP = 20
GOAL_MS = 30.0
BLOCKS = ((clock(9), clock(12)), (clock(13), clock(17)))
ZWB, OB = ContactArea.ZEELAND_WEST_BRABANT, ContactArea.OOST_BRABANT
BATCH = 2000


def progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


@contextmanager
def database(backend: str, pg_admin_url: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="kvo-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
    else:
        with throwaway_postgres_database(pg_admin_url, prefix="kvo_bench") as url:
            yield url


def reference(index: int) -> str:
    digits = []
    for _ in range(6):
        index, rest = divmod(index, len(ALPHABET))
        digits.append(ALPHABET[rest])
    return "INT-" + "".join(reversed(digits))


def add_facilitators(session: Session) -> list[int]:
    ids = []
    for area in (ZWB, OB):
        for number in range(FACILITATORS):
            facilitator = Facilitator(
                name=f"Benchmark {area.code} {number}",
                contact_area=area,
                email=f"bench-{area.code}-{number}@example.org",
                active=True,
            )
            facilitator.availability_rules = [
                AvailabilityRule(weekday=day, start_time=start, end_time=end, slot_minutes=60)
                for day in range(5)
                for start, end in BLOCKS
            ]
            session.add(facilitator)
            session.flush()
            if area is ZWB:
                ids.append(facilitator.id)
    session.commit()
    return ids


def all_slots(session: Session, now: datetime, url: str) -> list[tuple[datetime, datetime]]:
    """Every slot of the (shared) week pattern for the coming 26 weeks: the grid to book."""
    # The free-slot query itself gives the grid while nothing is booked.
    wide = Settings(_env_file=None, database_url=url, booking_horizon_days=366)  # type: ignore[call-arg]
    return [
        (slot.starts_at, slot.ends_at)
        for slot in free_slots(session, ZWB, now, count=10_000, settings=wide)
        if slot.starts_at < now + timedelta(weeks=WEEKS)
    ]


def fill(session: Session, chosen: list[tuple[int, datetime, datetime]], now: datetime) -> None:
    session.execute(delete(Booking))
    session.execute(delete(Lead))
    session.commit()
    for start in range(0, len(chosen), BATCH):
        batch = chosen[start : start + BATCH]
        leads = [
            {
                "reference": reference(start + i),
                "kind": LeadKind.INTAKE,
                "status": LeadStatus.GEPLAND,
                "contact_area": ZWB,
                "consent_at": now,
                "facilitator_id": facilitator,
                "slot_start": begin,
                "slot_end": end,
                "created_at": now,
                "updated_at": now,
            }
            for i, (facilitator, begin, end) in enumerate(batch)
        ]
        session.execute(insert(Lead), leads)
        rows = session.execute(
            select(Lead.reference, Lead.id).where(
                Lead.reference.in_([lead["reference"] for lead in leads])
            )
        ).all()
        ids = {ref: lead_id for ref, lead_id in rows}
        # As the booking service does: the claim records the rules it was made under.
        versions = {
            facilitator_id: version
            for facilitator_id, version in session.execute(
                select(Facilitator.id, Facilitator.rules_version)
            )
        }
        session.execute(
            insert(Booking),
            [
                {
                    "lead_id": ids[lead["reference"]],
                    "facilitator_id": lead["facilitator_id"],
                    "starts_at": lead["slot_start"],
                    "ends_at": lead["slot_end"],
                    "rules_version": versions[lead["facilitator_id"]],
                }
                for lead in leads
            ],
        )
        session.commit()
        progress(f"bookings {min(start + BATCH, len(chosen))}/{len(chosen)}")


def time_queries(
    session: Session, now: datetime, n: int, settings: Settings, expected: int
) -> tuple[list[float], list[float], float]:
    """Wall-clock ms, this process's CPU ms (less blurred by other load on the machine) and
    SQL statements per call (not blurred at all)."""
    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    samples, cpu = [], []
    for index in range(WARMUP + n):
        started, cpu_started = time.perf_counter(), time.process_time()
        slots = free_slots(session, ZWB, now, count=3, settings=settings)
        elapsed = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu_started) * 1000
        assert len(slots) == expected
        session.rollback()  # end the read transaction: each call starts afresh, as in the chat
        if index >= WARMUP:
            samples.append(elapsed)
            cpu.append(cpu_ms)
        if (index + 1) % 100 == 0:
            progress(f"queries {index + 1}/{WARMUP + n}")
    event.remove(engine, "before_cursor_execute", count)
    return samples, cpu, statements[0] / (WARMUP + n)


def summary(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    p95 = cuts[94]
    verdict = "met" if p95 <= GOAL_MS else "NOT met"
    return (
        f"p50 {cuts[49]:.1f} ms, p95 {p95:.1f} ms, p99 {cuts[98]:.1f} ms, "
        f"max {max(samples):.1f} ms (n={len(samples)}; goal p95 <= {GOAL_MS:.0f} ms: {verdict})"
    )


def run(backend: str, url: str, n: int) -> list[str]:
    settings = Settings(_env_file=None, database_url=url, db_timeout_seconds=30)  # type: ignore[call-arg]
    print(f"[{backend}] {safe_url(url)}", file=sys.stderr, flush=True)
    migrate.upgrade(url)
    engine = make_engine(url, settings)
    lines = []
    try:
        session = make_sessionmaker(engine)()
        now = datetime.now(UTC)
        facilitator_ids = add_facilitators(session)
        grid = all_slots(session, now, url)
        everything = [(f, start, end) for f in facilitator_ids for start, end in grid]
        rng = random.Random(8)
        scenarios = {
            "busy (90% of 26 weeks booked)": (
                rng.sample(everything, int(len(everything) * 0.9)),
                3,
            ),
            "full (26 weeks booked)": (everything, 0),
        }
        for name, (chosen, expected) in scenarios.items():
            progress(f"scenario {name}: {len(chosen)} bookings of {len(everything)} slots")
            fill(session, chosen, now)
            samples, cpu, per_call = time_queries(session, now, n, settings, expected)
            cpu_p95 = statistics.quantiles(cpu, n=100, method="inclusive")[94]
            line = (
                f"{backend:<10} {name:<31} {summary(samples)}; "
                f"client CPU p95 {cpu_p95:.1f} ms; {per_call:.0f} SQL statements"
            )
            print(line, flush=True)
            lines.append(line)
        session.close()
    finally:
        engine.dispose()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--n", type=int, default=500, help="timed queries per scenario")
    args = parser.parse_args()
    pg_admin = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = []
    load = os.getloadavg()[0]
    print(f"load average before: {load:.1f} on {os.cpu_count()} cores", file=sys.stderr)
    for backend in backends:
        try:
            with database(backend, pg_admin) as url:
                results.extend(run(backend, url, args.n))
        except PostgresUnavailable as error:
            print(f"[{backend}] skipped: {error}", file=sys.stderr)
    print(
        "\nSummary (free_slots, 3 earliest slots, 10 facilitators, 26 weeks; load average "
        f"{load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):"
    )
    for line in results:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
