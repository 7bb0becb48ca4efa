"""Alembic environment for the KVO database.

The URL comes, in this order, from a connection handed over by the caller
(``config.attributes["connection"]``), an explicit URL
(``config.attributes["database_url"]``), or the settings (``DATABASE_URL``).
It is never read from alembic.ini, so no credentials live in the repo.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from kvo.db import make_engine, normalize_database_url
from kvo.models import Base
from kvo.settings import get_settings

config = context.config

# Only the plain `alembic` CLI configures logging; callers embedding Alembic keep theirs.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url") or get_settings().database_url
    return normalize_database_url(url).render_as_string(hide_password=False)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=_database_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_with(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


def _run_sqlite_without_foreign_keys(connection: Connection) -> None:
    """Run the migrations with SQLite's foreign keys off, then check them.

    Batch mode rebuilds a table by copying it and dropping the original; with foreign keys on,
    SQLite's DROP TABLE first deletes every row, and ON DELETE CASCADE would empty the child
    tables. The pragma only works outside a transaction, so it is set before migrating.
    """
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        _run_with(connection)
        connection.commit()
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left {len(broken)} rows with broken foreign keys")
    finally:
        connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        _run_with(given)
        return
    engine = make_engine(_database_url())
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                _run_sqlite_without_foreign_keys(connection)
                return
            if connection.dialect.name == "postgresql":
                # The app's short statement timeout must not cut a long migration short.
                connection.exec_driver_sql("SET statement_timeout = 0")
            _run_with(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
