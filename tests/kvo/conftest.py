"""Fixtures: a migrated database per backend (SQLite file, throwaway PostgreSQL).

PostgreSQL comes from TEST_POSTGRES_URL (default postgres@127.0.0.1:5432/test);
each session creates ``kvo_test_<random>`` and drops it afterwards. When the
server is unreachable the PostgreSQL tests skip, unless CI=true: then they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from kvo import migrate
from kvo.db import make_engine, make_sessionmaker
from kvo.models import AvailabilityRule, Base, ContactArea, Facilitator
from kvo.scratch_db import (
    DEFAULT_TEST_POSTGRES_URL,
    PostgresUnavailable,
    throwaway_postgres_database,
)
from kvo.settings import Settings
from tests.kvo.mail_support import SmtpSink, free_port

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL


def _postgres_missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required when CI=true: {reason}")
    pytest.skip(f"PostgreSQL not reachable (set TEST_POSTGRES_URL): {reason}")


def make_test_settings(**overrides: object) -> Settings:
    """Settings independent of the developer's environment and .env file."""
    values: dict[str, object] = {
        "database_url": "sqlite://",
        "db_timeout_seconds": 5.0,
        "timezone": "Europe/Amsterdam",
        "lockout_max_attempts": 5,
        "lockout_window_minutes": 60,
        "argon2_time_cost": 2,
        "argon2_memory_cost_kib": 19456,
        "argon2_parallelism": 1,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def make_settings() -> Callable[..., Settings]:
    """Factory for test settings with overrides, e.g. ``make_settings(lockout_max_attempts=3)``."""
    return make_test_settings


@pytest.fixture(scope="session")
def kvo_settings() -> Settings:
    return make_test_settings()


@pytest.fixture(scope="session")
def fresh_database_url(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], str]]:
    """A factory for empty databases: ``fresh_database_url("sqlite" | "postgresql")``."""
    unavailable: list[str] = []  # remembered, so a dead server is tried only once

    with ExitStack() as stack:

        def make(backend: str) -> str:
            if backend == "sqlite":
                folder = tmp_path_factory.mktemp("kvo-db")
                return f"sqlite:///{Path(folder) / 'kvo.sqlite3'}"
            if not unavailable:
                try:
                    return stack.enter_context(throwaway_postgres_database(_postgres_admin_url()))
                except PostgresUnavailable as error:
                    unavailable.append(str(error))
            _postgres_missing(unavailable[0])
            raise AssertionError("unreachable")  # skip() / fail() raise

        yield make


@pytest.fixture(params=BACKENDS)
def kvo_backend(request: pytest.FixtureRequest) -> str:
    """Each backend name in turn, for tests that build their own databases."""
    return request.param


@pytest.fixture(scope="session", params=BACKENDS)
def kvo_db_url(request: pytest.FixtureRequest, fresh_database_url: Callable[[str], str]) -> str:
    """A migrated database URL, once per backend and test session."""
    url = fresh_database_url(request.param)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def kvo_engine(kvo_db_url: str, kvo_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(kvo_db_url, kvo_settings)
    yield engine
    engine.dispose()


def _wipe(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture
def kvo_session(kvo_engine: Engine) -> Iterator[Session]:
    """A session on an empty, migrated database; all rows are removed afterwards."""
    session = make_sessionmaker(kvo_engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        _wipe(kvo_engine)


@pytest.fixture
def add_facilitator(kvo_session: Session) -> Callable[..., Facilitator]:
    """Factory for a facilitator with weekly rules, e.g. ``add_facilitator(weekdays=(1,))``.

    Defaults: contact area Zeeland en West-Brabant, Monday to Friday 09:00-12:00 in
    60-minute slots.
    """
    counter = iter(range(1, 10_000))

    def add(
        contact_area: ContactArea = ContactArea.ZEELAND_WEST_BRABANT,
        *,
        weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
        start: time = time(9),
        end: time = time(12),
        slot_minutes: int = 60,
        active: bool = True,
    ) -> Facilitator:
        number = next(counter)
        facilitator = Facilitator(
            name=f"Begeleider {number}",
            contact_area=contact_area,
            email=f"begeleider-{number}@example.org",
            active=active,
        )
        facilitator.availability_rules = [
            AvailabilityRule(weekday=day, start_time=start, end_time=end, slot_minutes=slot_minutes)
            for day in weekdays
        ]
        kvo_session.add(facilitator)
        kvo_session.flush()
        return facilitator

    return add


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    """A started SMTP sink on a free port; stop()/start() simulate an outage."""
    sink = SmtpSink(free_port(), tmp_path / "mail")
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
