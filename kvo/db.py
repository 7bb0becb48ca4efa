"""Database engine, sessions and the translation of outages into one error type."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from kvo.settings import Settings, get_settings

_POSTGRES_ALIASES = {
    "postgres",
    "postgresql",
    "postgresql+psycopg2",
    "postgresql+psycopg",
}


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or did not answer in time.

    Callers show a friendly message; the original error is chained for logs.
    """


def normalize_database_url(url: str | URL) -> URL:
    """Parse a URL and point every PostgreSQL flavour at the psycopg 3 driver."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in _POSTGRES_ALIASES:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages."""
    return normalize_database_url(url).render_as_string(hide_password=True)


def _ensure_sqlite_folder(url: URL) -> None:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(timeout_ms: int, wal: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={timeout_ms:d}")
            if wal:
                # Readers (action server) and writers (staff API) do not block each other.
                cursor.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL stays consistent after a crash and only a power cut can lose
                # the newest commits; FULL would sync the disk on every lockout write (~10 ms).
                # SQLite is the embedded default; production runs on PostgreSQL.
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    return on_connect


def make_engine(
    url: str | URL | None = None,
    settings: Settings | None = None,
    *,
    pool_size: int | None = None,
) -> Engine:
    """Create an engine configured for the backend (SQLite or PostgreSQL).

    ``hide_parameters`` keeps bound values (personal data, keys) out of error
    messages and logs; only the SQL text appears there. ``pool_size`` (PostgreSQL)
    is for load tests that need one connection per concurrent client.
    """
    settings = settings or get_settings()
    parsed = normalize_database_url(url if url is not None else settings.database_url)
    timeout = settings.db_timeout_seconds
    backend = parsed.get_backend_name()

    if backend == "sqlite":
        _ensure_sqlite_folder(parsed)
        engine = create_engine(parsed, connect_args={"timeout": timeout}, hide_parameters=True)
        in_memory = (parsed.database or ":memory:") == ":memory:"
        event.listen(engine, "connect", _sqlite_pragmas(int(timeout * 1000), wal=not in_memory))
        return engine

    if backend == "postgresql":
        connect_args = {
            # libpq takes whole seconds here.
            "connect_timeout": max(1, math.ceil(timeout)),
            "options": f"-c statement_timeout={int(timeout * 1000):d}",
        }
        pool_args = {"pool_size": pool_size} if pool_size else {}
        return create_engine(
            parsed,
            connect_args=connect_args,
            pool_pre_ping=True,
            pool_timeout=timeout,
            hide_parameters=True,
            **pool_args,
        )

    raise ValueError(f"unsupported database backend: {backend}")


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine built from the settings."""
    return make_engine()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@lru_cache(maxsize=1)
def _default_sessionmaker() -> sessionmaker[Session]:
    return make_sessionmaker(get_engine())


_OUTAGE_ERRORS = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)


def _quiet_rollback(session: Session) -> None:
    # The connection may already be gone; the original error is what matters.
    with suppress(exc.SQLAlchemyError):
        session.rollback()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error.

    Connection problems and timeouts surface as :class:`StoreUnavailable`,
    so callers need not know SQLAlchemy's exception tree.
    """
    factory = _default_sessionmaker() if engine is None else make_sessionmaker(engine)
    session = factory()
    try:
        yield session
        session.commit()
    except _OUTAGE_ERRORS as error:
        _quiet_rollback(session)
        raise StoreUnavailable("database unavailable") from error
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
