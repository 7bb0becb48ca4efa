"""Benchmark the status lookup: database part per backend, and argon2 verify time.

    .venv/bin/python bench/status_lookup.py [--backend sqlite|postgresql|both] [--n 10000]

For each backend a fresh database (a temp SQLite file, or a throwaway PostgreSQL
database next to TEST_POSTGRES_URL, dropped afterwards) is migrated and filled
with N synthetic trajectories. Then random lookups are timed:

- "report query": the one statement that loads a trajectory with its area,
  facilitator, phase history and signatures, turned into a StatusReport;
- "db part": everything check_status does in the database for a successful
  lookup (reserve the attempt under the lockout's lock and commit, the report
  query, release the reservation and commit), i.e. all but argon2.

argon2 verify is timed separately with the configured parameters.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from kvo import access_codes, lockout, migrate
from kvo.bench_data import BENCH_ACCESS_CODE, bench_reference, generate_bench_data
from kvo.db import make_engine, make_sessionmaker, safe_url
from kvo.db_purpose import mark_demo
from kvo.scratch_db import (
    DEFAULT_TEST_POSTGRES_URL,
    PostgresUnavailable,
    throwaway_postgres_database,
)
from kvo.settings import Settings
from kvo.status import load_report

WARMUP = 50


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@contextmanager
def database(backend: str, pg_admin_url: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="kvo-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
    else:
        with throwaway_postgres_database(pg_admin_url, prefix="kvo_bench") as url:
            yield url


@contextmanager
def statement_counter(engine: Engine) -> Iterator[list[int]]:
    counter = [0]

    def count(*_args: object) -> None:
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


def time_lookups(
    engine: Engine, references: list[str], work: Callable[..., object]
) -> tuple[list[float], float]:
    """Milliseconds per lookup (fresh session each, as the chat action does)."""
    factory = make_sessionmaker(engine)
    for reference in references[:WARMUP]:
        with factory() as session:
            work(session, reference)
    samples = []
    with statement_counter(engine) as counter:
        for reference in references[WARMUP:]:
            with factory() as session:
                started = time.perf_counter()
                result = work(session, reference)
                samples.append((time.perf_counter() - started) * 1000)
                assert result is not None, reference
    return samples, counter[0] / len(samples)


def bench_backend(backend: str, args: argparse.Namespace, settings: Settings) -> dict[str, object]:
    with database(backend, args.pg_url) as url:
        print(f"[{backend}] database {safe_url(url)}", flush=True)
        migrate.upgrade(url)
        engine = make_engine(url, settings)
        try:
            factory = make_sessionmaker(engine)
            started = time.perf_counter()

            def progress(done: int, total: int) -> None:
                print(f"[{backend}] inserted {done:>6}/{total} trajectories", flush=True)

            with factory() as session:
                mark_demo(session)  # a fresh throwaway database: bench data belong there
                generate_bench_data(session, args.n, settings=settings, progress=progress)
            print(f"[{backend}] data ready in {time.perf_counter() - started:.1f} s", flush=True)
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()

            rng = random.Random(args.seed)
            references = [
                bench_reference(rng.randrange(args.n)) for _ in range(WARMUP + args.lookups)
            ]
            today = date.today()

            report_ms, report_statements = time_lookups(
                engine, references, lambda s, ref: load_report(s, ref, today)
            )

            def db_part(session: Session, reference: str) -> object:
                # As check_status does it, minus argon2: reserve, report, release, commit.
                reservation = lockout.reserve_attempt(
                    session, reference, "bench-conversation", settings=settings
                )
                if isinstance(reservation, lockout.Refused):
                    return None
                report = load_report(session, reference, today)
                lockout.release_attempt(session, reservation)
                session.commit()
                return report

            full_ms, full_statements = time_lookups(engine, references, db_part)
        finally:
            engine.dispose()
    return {
        "backend": backend,
        "report": report_ms,
        "report_statements": report_statements,
        "full": full_ms,
        "full_statements": full_statements,
    }


def bench_argon2(settings: Settings, runs: int) -> list[float]:
    encoded = access_codes.hash_code(BENCH_ACCESS_CODE, settings)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        assert access_codes.verify_code(BENCH_ACCESS_CODE, encoded, settings)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--n", type=int, default=10_000, help="trajectories (default 10000)")
    parser.add_argument("--lookups", type=int, default=1000, help="timed lookups (min 500)")
    parser.add_argument("--verifies", type=int, default=50, help="timed argon2 verifies")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL,
        help="PostgreSQL server for the throwaway database (env TEST_POSTGRES_URL)",
    )
    args = parser.parse_args(argv)
    if args.lookups < 500:
        parser.error("--lookups must be at least 500")
    if args.n < 1:
        parser.error("--n must be at least 1")

    settings = Settings()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = []
    for backend in backends:
        try:
            results.append(bench_backend(backend, args, settings))
        except PostgresUnavailable as error:
            print(f"[{backend}] skipped: {error}", file=sys.stderr)
            if args.backend != "both":
                return 1

    print(f"[argon2] timing {args.verifies} verifies ...", flush=True)
    argon2_ms = bench_argon2(settings, args.verifies)

    print()
    print(f"Status lookup, {args.n} trajectories, {args.lookups} random lookups (ms)")
    header = f"{'backend':<11} {'measure':<13} {'p50':>7} {'p95':>7} {'p99':>7} {'stmts':>6}"
    print(header)
    print("-" * len(header))
    for result in results:
        for label, key in (("report query", "report"), ("db part", "full")):
            samples = result[key]
            print(
                f"{result['backend']:<11} {label:<13} {percentile(samples, 50):7.2f}"
                f" {percentile(samples, 95):7.2f} {percentile(samples, 99):7.2f}"
                f" {result[key + '_statements']:6.1f}"
            )
    print()
    print(
        f"argon2id verify (m={settings.argon2_memory_cost_kib} KiB, t={settings.argon2_time_cost},"
        f" p={settings.argon2_parallelism}), {len(argon2_ms)} runs:"
        f" p50 {percentile(argon2_ms, 50):.1f} ms, p95 {percentile(argon2_ms, 95):.1f} ms,"
        f" mean {statistics.fmean(argon2_ms):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
