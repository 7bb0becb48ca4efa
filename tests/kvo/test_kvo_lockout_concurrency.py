"""The lockout holds under concurrency: at most the limit of argon2 verifications per window.

Twenty threads, each with its own connection, try wrong codes at the same moment. The argon2
verifications are counted by wrapping ``kvo.access_codes.verify_code`` (the real function still
runs); the lockout itself is the real one, on a real SQLite file and a real PostgreSQL database.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from kvo import access_codes, migrate
from kvo.db import make_engine, make_sessionmaker, session_scope
from kvo.models import (
    Area,
    AreaKind,
    ContactArea,
    FailedAttempt,
    Province,
    Trajectory,
    TrajectoryKind,
)
from kvo.settings import Settings
from kvo.status import Denied, Granted, LockedOut, StatusOutcome, check_status

THREADS = 20
REFERENCE = "KVO-2024-0031"
CODE = "WVZ4-LWUX"
NOW = datetime(2025, 3, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def lockout_engine(
    kvo_backend: str,
    fresh_database_url: Callable[[str], str],
    make_settings: Callable[..., Settings],
) -> Iterator[tuple[Engine, Settings]]:
    url = fresh_database_url(kvo_backend)
    migrate.upgrade(url)
    # Generous timeouts: twenty writers queue for SQLite's single write lock.
    settings = make_settings(database_url=url, db_timeout_seconds=30.0)
    engine = make_engine(url, settings)
    with session_scope(engine) as session:
        area = Area(
            name="Binnenstad Breda",
            kind=AreaKind.WINKELGEBIED,
            municipality="Breda",
            province=Province.NOORD_BRABANT,
            contact_area=ContactArea.ZEELAND_WEST_BRABANT,
        )
        session.add(
            Trajectory(
                reference=REFERENCE,
                area=area,
                kind=TrajectoryKind.FIRST_CERTIFICATION,
                target_stars=1,
                current_phase=1,
                access_code_hash=access_codes.hash_code(CODE, settings),
            )
        )
    yield engine, settings
    engine.dispose()


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts every argon2 verification check_status runs (the real verify still runs)."""
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    original = access_codes.verify_code

    def counting_verify(*args: object, **kwargs: object) -> bool:
        with lock:
            counts["verify"] += 1
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(access_codes, "verify_code", counting_verify)
    return counts


def _run_concurrently(
    engine: Engine, settings: Settings, attempts: list[dict[str, str | None]]
) -> list[StatusOutcome]:
    factory = make_sessionmaker(engine)
    start = threading.Barrier(len(attempts))

    def attempt(values: dict[str, str | None]) -> StatusOutcome:
        start.wait()
        session = factory()
        try:
            outcome = check_status(
                session,
                values["reference"],
                values["code"],
                values["conversation"] or "",
                NOW,
                settings=settings,
                client_key=values.get("client"),
            )
            session.commit()
            return outcome
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(attempt, attempts))


def _rows(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(FailedAttempt)) or 0


def _kinds(outcomes: list[StatusOutcome]) -> Counter[str]:
    return Counter(type(outcome).__name__ for outcome in outcomes)


def test_twenty_concurrent_wrong_codes_run_five_verifications(
    lockout_engine: tuple[Engine, Settings], verifications: Counter[str]
) -> None:
    engine, settings = lockout_engine
    attempts = [
        {"reference": REFERENCE, "code": "ABCD-EFGH", "conversation": f"attacker-{i}"}
        for i in range(THREADS)
    ]
    outcomes = _run_concurrently(engine, settings, attempts)
    assert verifications["verify"] == settings.lockout_max_attempts == 5
    assert _kinds(outcomes) == {"Denied": 5, "LockedOut": 15}
    assert _rows(engine) == 5
    # The owner is locked out too, for the rest of the window: the accepted trade-off.
    factory = make_sessionmaker(engine)
    with factory() as session:
        owner = check_status(session, REFERENCE, CODE, "owner", NOW, settings=settings)
    assert owner == LockedOut(until=NOW + timedelta(minutes=settings.lockout_window_minutes))
    assert verifications["verify"] == 5


def test_right_codes_leave_no_failures_behind(
    lockout_engine: tuple[Engine, Settings], verifications: Counter[str]
) -> None:
    engine, settings = lockout_engine
    # Checks in flight count against the limit until they finish, so up to the limit at once.
    limit = settings.lockout_max_attempts
    attempts = [
        {"reference": REFERENCE, "code": CODE, "conversation": f"owner-{i}"} for i in range(limit)
    ]
    outcomes = _run_concurrently(engine, settings, attempts)
    assert all(isinstance(outcome, Granted) for outcome in outcomes)
    assert _rows(engine) == 0
    # Released reservations are no failures: many right checks in a row all succeed.
    with make_sessionmaker(engine)() as session:
        for i in range(2 * limit):
            outcome = check_status(session, REFERENCE, CODE, "owner", NOW, settings=settings)
            assert isinstance(outcome, Granted), i
            session.commit()
    assert verifications["verify"] == 3 * limit
    assert _rows(engine) == 0


def test_one_client_spreading_guesses_over_references_is_stopped(
    lockout_engine: tuple[Engine, Settings], verifications: Counter[str]
) -> None:
    engine, settings = lockout_engine
    client = "0123456789abcdef0123456789abcdef"
    attempts = [
        {
            "reference": f"KVO-2024-{100 + i:04d}",
            "code": CODE,
            "conversation": f"fresh-conversation-{i}",
            "client": client,
        }
        for i in range(THREADS)
    ]
    outcomes = _run_concurrently(engine, settings, attempts)
    limit = settings.lockout_client_max_attempts
    assert verifications["verify"] == limit == 10
    assert _kinds(outcomes) == {"Denied": limit, "LockedOut": THREADS - limit}
    # Another client is not affected.
    with make_sessionmaker(engine)() as session:
        other = check_status(
            session,
            REFERENCE,
            CODE,
            "someone",
            NOW,
            settings=settings,
            client_key="fedcba9876543210fedcba9876543210",
        )
    assert isinstance(other, Granted)


@pytest.mark.parametrize("client", [None, "", "not-a-key", "0123", "Z" * 32, "0" * 64])
def test_without_a_valid_client_key_only_the_other_limits_apply(
    lockout_engine: tuple[Engine, Settings], client: str | None
) -> None:
    engine, settings = lockout_engine
    factory = make_sessionmaker(engine)
    with factory() as session:
        for i in range(settings.lockout_client_max_attempts + 2):
            outcome = check_status(
                session,
                f"KVO-2024-{200 + i:04d}",
                CODE,
                f"conversation-{i}",
                NOW,
                settings=settings,
                client_key=client,
            )
            assert outcome == Denied()
        stored = set(session.scalars(select(FailedAttempt.client_key)))
    assert stored == {None}
