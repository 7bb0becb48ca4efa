"""Alembic migrations run up and down on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from kvo import migrate
from kvo.db import normalize_database_url
from kvo.models import Base

KVO_TABLES = {
    "areas",
    "facilitators",
    "trajectories",
    "phase_events",
    "convenant_signatures",
    "failed_attempts",
    "availability_rules",
    "blocked_periods",
    "leads",
    "bookings",
    "lead_events",
    "intake_drafts",
    "outbox",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(normalize_database_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(
    kvo_backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    url = fresh_database_url(kvo_backend)
    assert _tables(url) == set()

    migrate.upgrade(url)
    assert _tables(url) == KVO_TABLES
    engine = create_engine(normalize_database_url(url))
    try:
        assert migrate.is_up_to_date(engine)
    finally:
        engine.dispose()

    migrate.downgrade(url, "base")
    assert _tables(url) == set()

    migrate.upgrade(url)  # a clean downgrade leaves nothing in the way
    assert _tables(url) == KVO_TABLES


def test_migrated_schema_matches_the_models(
    kvo_backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    url = fresh_database_url(kvo_backend)
    migrate.upgrade(url)
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_single_head() -> None:
    assert migrate.head_revision() == "0003_intake"
