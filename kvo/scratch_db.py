"""Throwaway databases for tests and benchmarks (never for application data)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

from kvo.db import normalize_database_url

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server for throwaway databases could not be reached."""


def _admin_engine(admin_url: URL) -> Engine:
    return create_engine(
        admin_url,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
        pool_pre_ping=True,
    )


@contextmanager
def throwaway_postgres_database(admin_url: str, prefix: str = "kvo_test") -> Iterator[str]:
    """Create ``<prefix>_<random>`` next to ``admin_url``'s database, yield its URL, drop it.

    Raises :class:`PostgresUnavailable` when the server cannot be reached.
    """
    admin = normalize_database_url(admin_url)
    name = f"{prefix}_{secrets.token_hex(6)}"
    engine = _admin_engine(admin)
    try:
        try:
            with engine.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as error:  # any connect/auth/permission failure means "unusable"
            cause = getattr(error, "orig", None) or error
            first_line = (str(cause).splitlines() or [""])[0]
            raise PostgresUnavailable(
                f"cannot create a database on {admin.render_as_string(hide_password=True)}: "
                f"{first_line}"
            ) from error
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
