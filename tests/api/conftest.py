"""Fixtures: the staff API on a migrated database (SQLite; PostgreSQL where a test asks),
with an admin ("anna") and a staff user ("sam")."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from api.app import create_app
from kvo import migrate
from kvo.db import make_engine, make_sessionmaker
from kvo.models import Base, UserRole
from kvo.scratch_db import (
    DEFAULT_TEST_POSTGRES_URL,
    PostgresUnavailable,
    throwaway_postgres_database,
)
from kvo.users import add_user
from tests.api.support import (
    ADMIN_PASSWORD,
    STAFF_PASSWORD,
    Api,
    make_api_settings,
    make_kvo_settings,
)
from tests.support import require

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def api_database(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], str]]:
    """A migrated database URL per backend, made once per test session."""
    made: dict[str, str] = {}
    failed: list[str] = []
    with ExitStack() as stack:

        def get(backend: str) -> str:
            if backend in made:
                return made[backend]
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('api-db') / 'api.sqlite3'}"
            else:
                if not failed:
                    admin = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL
                    try:
                        url = stack.enter_context(throwaway_postgres_database(admin, "kvo_api"))
                    except PostgresUnavailable as error:
                        failed.append(str(error))
                require(not failed, f"PostgreSQL not reachable: {failed[0] if failed else ''}")
            migrate.upgrade(url)
            made[backend] = url
            return url

        yield get


def _wipe(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


def _make_api(url: str, **api_overrides: object) -> Iterator[Api]:
    kvo_settings = make_kvo_settings(url)
    engine = make_engine(url, kvo_settings)
    _wipe(engine)
    factory = make_sessionmaker(engine)
    with factory() as session:
        add_user(session, "anna", ADMIN_PASSWORD, UserRole.ADMIN, settings=kvo_settings)
        add_user(session, "sam", STAFF_PASSWORD, UserRole.STAFF, settings=kvo_settings)
        session.commit()
    app = create_app(make_api_settings(**api_overrides), kvo_settings, engine)
    with TestClient(app) as client:
        api = Api(client, {}, {}, kvo_settings, factory)
        api.admin = api.token("anna", ADMIN_PASSWORD)
        api.staff = api.token("sam", STAFF_PASSWORD)
        yield api
    _wipe(engine)
    engine.dispose()


@pytest.fixture
def api(api_database: Callable[[str], str]) -> Iterator[Api]:
    """The app on SQLite."""
    yield from _make_api(api_database("sqlite"))


@pytest.fixture(params=BACKENDS)
def any_api(request: pytest.FixtureRequest, api_database: Callable[[str], str]) -> Iterator[Api]:
    """The app on each backend in turn (key tests)."""
    yield from _make_api(api_database(request.param))


@pytest.fixture
def db(api: Api) -> Iterator[Session]:
    """A session on the app's database, for arranging data and checking results."""
    session: Session = api.session_factory()  # type: ignore[operator]
    try:
        yield session
    finally:
        session.rollback()
        session.close()
