"""Alembic migrations run up and down on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from kvo import migrate
from kvo.db import make_engine, normalize_database_url
from kvo.models import Base

KVO_TABLES = {
    "areas",
    "facilitators",
    "trajectories",
    "phase_events",
    "convenant_signatures",
    "failed_attempts",
    "kvo_meta",
    "availability_rules",
    "blocked_periods",
    "leads",
    "bookings",
    "lead_events",
    "intake_drafts",
    "outbox",
    "users",
    "audit_log",
    "lead_notes",
    "phase_changes",
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
    assert migrate.head_revision() == "0004_staff"


_ROWS_AT_0001 = [
    "INSERT INTO areas (id, name, kind, municipality, province, pvo_region)"
    " VALUES (1, 'Centrum', 'winkelgebied', 'Breda', 'Noord-Brabant', 'West-Brabant')",
    "INSERT INTO facilitators (id, name, region, email)"
    " VALUES (1, 'Fenna Fictief', 'West-Brabant', 'fenna@example.org')",
    "INSERT INTO trajectories (id, reference, area_id, kind, target_stars, current_phase,"
    " facilitator_id, access_code_hash)"
    " VALUES (1, 'KVO-2024-0031', 1, 'hercertificering', 2, 2, 1, 'hash')",
    "INSERT INTO phase_events (trajectory_id, phase, started_on, completed_on)"
    " VALUES (1, 1, '2024-01-01', '2024-03-01')",
    "INSERT INTO phase_events (trajectory_id, phase, started_on) VALUES (1, 2, '2024-03-01')",
    "INSERT INTO convenant_signatures (trajectory_id, stakeholder, party_name)"
    " VALUES (1, 'gemeente', 'Gemeente Breda')",
    "INSERT INTO failed_attempts (reference_key, conversation_key, attempted_at)"
    " VALUES ('KVO-2024-0031', 'abc', '2024-01-01 10:00:00')",
]
# Since 0003_intake areas have a contact area instead of the old region.
_AREA_AT_HEAD = (
    "INSERT INTO areas (id, name, kind, municipality, province, contact_area)"
    " VALUES (1, 'Centrum', 'winkelgebied', 'Breda', 'Noord-Brabant', 'Zeeland en West-Brabant')"
)
_COUNTED = ("areas", "facilitators", "trajectories", "phase_events", "convenant_signatures")


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in (*_COUNTED, "failed_attempts")
            }
    finally:
        engine.dispose()


def test_0002_keeps_existing_data_both_ways(
    kvo_backend: str, fresh_database_url: Callable[[str], str]
) -> None:
    # SQLite rebuilds the trajectories table for the new CHECK constraint; with foreign keys
    # on, dropping the old table would cascade into the phase history and the signatures.
    url = fresh_database_url(kvo_backend)
    migrate.upgrade(url, "0001_initial")
    engine = make_engine(url)  # the app's engine: foreign keys on for SQLite
    try:
        with engine.begin() as connection:
            for statement in _ROWS_AT_0001:
                connection.execute(text(statement))
    finally:
        engine.dispose()
    before = _counts(url)
    assert before == dict.fromkeys((*_COUNTED, "failed_attempts"), 1) | {"phase_events": 2}

    migrate.upgrade(url)
    assert _counts(url) == before
    migrate.downgrade(url, "0001_initial")
    assert _counts(url) == before
    migrate.upgrade(url)
    assert _counts(url) == before

    # The rebuilt table still is the parent of the history: deleting cascades as before.
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM trajectories"))
        assert _counts(url)["phase_events"] == 0
        assert _counts(url)["convenant_signatures"] == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        # The example reference of the bot texts (0002_security).
        "INSERT INTO trajectories (reference, area_id, kind, target_stars, current_phase,"
        " access_code_hash) VALUES ('KVO-2000-1234', 1, 'hercertificering', 2, 2, 'h')",
        # The constraints of 0001_initial survive the rebuild of the table.
        "INSERT INTO trajectories (reference, area_id, kind, target_stars, current_phase,"
        " access_code_hash) VALUES ('KVO-2024-0099', 1, 'hercertificering', 2, 6, 'h')",
        "INSERT INTO trajectories (reference, area_id, kind, target_stars, current_phase,"
        " access_code_hash) VALUES ('KVO-2024-0099', 1, 'onbekend', 2, 2, 'h')",
        "INSERT INTO trajectories (reference, area_id, kind, target_stars, current_phase,"
        " access_code_hash) VALUES ('KVO-2024-0099', 99, 'hercertificering', 2, 2, 'h')",
    ],
)
def test_the_database_refuses_rows_the_domain_forbids(
    kvo_backend: str, fresh_database_url: Callable[[str], str], statement: str
) -> None:
    url = fresh_database_url(kvo_backend)
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(_AREA_AT_HEAD))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()
