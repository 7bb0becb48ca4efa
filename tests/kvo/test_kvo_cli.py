"""The operator CLI, run in-process against real databases."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kvo import access_codes
from kvo.cli import app
from kvo.db import make_engine, session_scope
from kvo.demo_data import DEMO_TRAJECTORIES
from kvo.models import Trajectory
from kvo.settings import REPO_ROOT, Settings
from kvo.status import Denied, Granted, check_status

NOW = datetime(2025, 3, 15, 12, tzinfo=UTC)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli_db(kvo_backend: str, fresh_database_url: Callable[[str], str], runner: CliRunner) -> str:
    url = fresh_database_url(kvo_backend)
    result = runner.invoke(app, ["--database-url", url, "db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["--database-url", url, "demo", "load", "--create-demo"])
    assert result.exit_code == 0, result.output
    return url


def _hash(url: str, reference: str, settings: Settings) -> str:
    engine = make_engine(url, settings)
    try:
        with session_scope(engine) as session:
            return session.scalars(
                select(Trajectory.access_code_hash).where(Trajectory.reference == reference)
            ).one()
    finally:
        engine.dispose()


def test_rotate_changes_the_hash_and_the_old_code_stops_working(
    cli_db: str, runner: CliRunner, kvo_settings: Settings
) -> None:
    demo = DEMO_TRAJECTORIES[0]
    old_hash = _hash(cli_db, demo.reference, kvo_settings)

    result = runner.invoke(app, ["--database-url", cli_db, "access-code", "rotate", demo.reference])
    assert result.exit_code == 0, result.output
    new_code = result.stdout.strip()
    assert access_codes.is_well_formed(access_codes.normalize_code(new_code))
    assert new_code != demo.access_code

    new_hash = _hash(cli_db, demo.reference, kvo_settings)
    assert new_hash != old_hash
    engine = make_engine(cli_db, kvo_settings)
    try:
        with session_scope(engine) as session:
            old = check_status(
                session, demo.reference, demo.access_code, "a", NOW, settings=kvo_settings
            )
            new = check_status(session, demo.reference, new_code, "b", NOW, settings=kvo_settings)
    finally:
        engine.dispose()
    assert old == Denied()
    assert isinstance(new, Granted)


def test_rotate_errors_are_messages_not_tracebacks(cli_db: str, runner: CliRunner) -> None:
    unknown = runner.invoke(
        app, ["--database-url", cli_db, "access-code", "rotate", "KVO-2024-9999"]
    )
    assert unknown.exit_code == 1
    assert "onbekende referentie KVO-2024-9999" in unknown.stderr
    invalid = runner.invoke(app, ["--database-url", cli_db, "access-code", "rotate", "rommel"])
    assert invalid.exit_code == 1
    assert "geen geldige referentie" in invalid.stderr
    for result in (unknown, invalid):
        assert "Traceback" not in result.output
        assert result.stdout == ""


def test_demo_load_twice_changes_nothing(cli_db: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["--database-url", cli_db, "demo", "load"])
    assert result.exit_code == 0
    assert "0 nieuw, 0 bijgewerkt" in result.stdout


def test_downgrade_and_current(cli_db: str, runner: CliRunner) -> None:
    result = runner.invoke(app, ["--database-url", cli_db, "db", "downgrade", "base", "--yes"])
    assert result.exit_code == 0, result.output
    current = runner.invoke(app, ["--database-url", cli_db, "db", "current"])
    assert "Huidige revisie: geen" in current.stdout
    needs_schema = runner.invoke(app, ["--database-url", cli_db, "demo", "load"])
    assert needs_schema.exit_code == 1
    assert "db upgrade" in needs_schema.stderr


def test_unreachable_database_is_a_clear_error(runner: CliRunner) -> None:
    url = "postgresql://user:topsecret@127.0.0.1:9/none"
    result = runner.invoke(app, ["--database-url", url, "demo", "load"])
    assert result.exit_code == 1
    assert "database niet bereikbaar" in result.stderr
    assert "topsecret" not in result.output
    assert "Traceback" not in result.output


def test_python_dash_m_entry_point(tmp_path: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    completed = subprocess.run(
        [sys.executable, "-m", "kvo", "--database-url", url, "db", "upgrade"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Schema bijgewerkt" in completed.stdout
