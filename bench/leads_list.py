"""Benchmark the staff API's leads list: 10,000 leads, filtered and paginated.

    .venv/bin/python bench/leads_list.py [--backend sqlite|postgresql|both] [--n 300]

For each backend a fresh database (a temp SQLite file, or a throwaway PostgreSQL database
next to TEST_POSTGRES_URL, dropped afterwards) is migrated and filled with 10,000 leads
spread over a year (both kinds, all statuses, both contact areas, three area kinds, about 2%
with a failed notification). Each timed call is a full in-process HTTP request
``GET /leads?...`` with a bearer token through the real app (httpx's ASGI transport) (authentication, the query, the
audit-log write and commit, JSON), cycling through filter combinations (status, kind,
contact area, area kind, a date range, another sort, a later page). Goal: p95 <= 50 ms.
The process CPU time per request (client and server run in this one process) and the
machine's load average are printed beside the wall time: on a shared machine the wall time
includes waiting for a CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from fastapi import FastAPI
from sqlalchemy import insert

from api.app import create_app
from api.settings import ApiSettings
from kvo import migrate
from kvo.db import make_engine, make_sessionmaker, safe_url
from kvo.models import (
    AreaKind,
    ContactArea,
    Facilitator,
    Lead,
    LeadKind,
    LeadStatus,
    MailKind,
    MailStatus,
    OutboxMessage,
    UserRole,
)
from kvo.scratch_db import DEFAULT_TEST_POSTGRES_URL, throwaway_postgres_database
from kvo.settings import Settings
from kvo.users import add_user

LEADS = 10_000
GOAL_MS = 50.0
PASSWORD = "bench-wachtwoord-1"
Query = dict[str, str | int]
QUERIES: list[Query] = [
    {},
    {"status": "nieuw"},
    {"kind": "intake", "status": "gepland"},
    {"contact_area": "Oost-Brabant"},
    {"area_kind": "bedrijventerrein", "status": "in_behandeling"},
    {"created_from": "DATE_FROM", "created_to": "DATE_TO"},
    {"sort": "slot_start", "order": "asc", "kind": "intake"},
    {"status": "nieuw", "page": 5},
    {"contact_area": "Zeeland en West-Brabant", "area_kind": "winkelgebied", "page": 3},
    {"sort": "municipality", "page": 20},
]


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


def fill(url: str, settings: Settings, now: datetime) -> None:
    engine = make_engine(url, settings)
    rng = random.Random(9)
    session = make_sessionmaker(engine)()
    try:
        facilitators = []
        for number, area in enumerate(list(ContactArea) * 5):
            facilitator = Facilitator(
                name=f"Begeleider {number}", contact_area=area, email=f"bench-{number}@example.org"
            )
            session.add(facilitator)
            facilitators.append(facilitator)
        session.flush()
        municipalities = ["Breda", "Eindhoven", "Middelburg", "Tilburg", "Helmond", "Goes"]
        rows = []
        for index in range(LEADS):
            kind = rng.choice(list(LeadKind))
            created = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
            area = rng.choice(list(ContactArea))
            slot = (
                created + timedelta(days=rng.randrange(3, 40)) if kind is LeadKind.INTAKE else None
            )
            facilitator = rng.choice([f for f in facilitators if f.contact_area is area])
            rows.append(
                {
                    "reference": f"INT-{index:06d}",
                    "kind": kind,
                    "status": rng.choice(list(LeadStatus)),
                    "contact_area": area,
                    "municipality": rng.choice(municipalities),
                    "area_name": f"Gebied {index % 300}",
                    "area_kind": rng.choice(list(AreaKind)),
                    "role": None,
                    "name": f"Bezoeker {index}",
                    "email": f"bezoeker{index}@example.org",
                    "organisation": f"Organisatie {index % 700}",
                    "consent_at": created,
                    "created_at": created,
                    "updated_at": created,
                    "facilitator_id": facilitator.id if slot else None,
                    "slot_start": slot,
                    "slot_end": slot + timedelta(hours=1) if slot else None,
                }
            )
        for start in range(0, LEADS, 1000):
            session.execute(insert(Lead), rows[start : start + 1000])
        failed = [
            {
                "lead_id": lead_id,
                "kind": MailKind.STAFF_NEW_CALLBACK,
                "status": MailStatus.FAILED,
                "payload": {},
                "attempts": 8,
                "next_attempt_at": now,
                "created_at": now,
            }
            for lead_id in rng.sample(range(1, LEADS + 1), LEADS // 50)
        ]
        session.execute(insert(OutboxMessage), failed)
        add_user(session, "bench", PASSWORD, UserRole.STAFF, settings=settings)
        session.commit()
    finally:
        session.close()
        engine.dispose()


def summary(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    p95 = cuts[94]
    verdict = "met" if p95 <= GOAL_MS else "NOT met"
    return (
        f"p50 {cuts[49]:.1f} ms, p95 {p95:.1f} ms, p99 {cuts[98]:.1f} ms, "
        f"max {max(samples):.1f} ms (n={len(samples)}; goal p95 <= {GOAL_MS:.0f} ms: {verdict})"
    )


async def timed_requests(
    app: FastAPI, queries: list[Query], n: int
) -> tuple[list[float], list[float]]:
    """(wall ms, process CPU ms) per request; the app runs in this process and event loop."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        token = await client.post("/auth/token", data={"username": "bench", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for query in queries:  # warm-up, and a check that every query answers
            response = await client.get("/leads", params=query, headers=headers)
            assert response.status_code == 200, response.text
        samples, cpu = [], []
        for index in range(n):
            query = queries[index % len(queries)]
            started, started_cpu = time.perf_counter(), time.process_time()
            response = await client.get("/leads", params=query, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
    return samples, cpu


def run(backend: str, url: str, n: int) -> str:
    settings = Settings(_env_file=None, database_url=url, db_timeout_seconds=30)  # type: ignore[call-arg]
    print(f"[{backend}] {safe_url(url)}", file=sys.stderr, flush=True)
    migrate.upgrade(url)
    now = datetime.now(UTC)
    progress(f"inserting {LEADS} leads")
    fill(url, settings, now)
    engine = make_engine(url, settings)
    day_from = (now - timedelta(days=120)).date().isoformat()
    day_to = (now - timedelta(days=60)).date().isoformat()
    dates = {"DATE_FROM": day_from, "DATE_TO": day_to}
    queries: list[Query] = [{k: dates.get(str(v), v) for k, v in q.items()} for q in QUERIES]
    try:
        app = create_app(ApiSettings(_env_file=None), settings, engine)  # type: ignore[call-arg]
        samples, cpu = asyncio.run(timed_requests(app, queries, n))
    finally:
        engine.dispose()
    cpu_p95 = statistics.quantiles(cpu, n=100, method="inclusive")[94]
    line = (
        f"{backend:<10} GET /leads (10,000 leads, filtered, page of 50): {summary(samples)};"
        f" process CPU p95 {cpu_p95:.1f} ms; load average {os.getloadavg()[0]:.1f}"
        f" on {os.cpu_count()} CPUs"
    )
    print(line, flush=True)
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--n", type=int, default=300, help="timed requests per backend")
    args = parser.parse_args()
    pg_admin = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        with database(backend, pg_admin) as url:
            run(backend, url, args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
