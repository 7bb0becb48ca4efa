"""Operator commands that could destroy data ask first or refuse: demo data, bench data, downgrade."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from kvo import access_codes, migrate
from kvo.bench_data import generate_bench_data
from kvo.cli import app
from kvo.db import make_engine, session_scope
from kvo.db_purpose import is_demo_database, mark_demo, real_data_rows
from kvo.demo_data import DEMO_TRAJECTORIES, load_demo_data
from kvo.errors import NotADemoDatabase
from kvo.models import Area, AreaKind, ContactArea, KvoMeta, Province, Trajectory, TrajectoryKind
from kvo.settings import Settings

REAL_CODE = "REAL-CDE7"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def migrated(kvo_backend: str, fresh_database_url: Callable[[str], str]) -> str:
    url = fresh_database_url(kvo_backend)
    migrate.upgrade(url)
    return url


def _kvo(runner: CliRunner, url: str, *args: str, input: str | None = None):
    return runner.invoke(app, ["--database-url", url, *args], input=input)


def _add_real_trajectory(url: str, settings: Settings, reference: str = "KVO-2024-0031") -> None:
    """A trajectory no loader made; by default it even shares a demo trajectory's number."""
    engine = make_engine(url, settings)
    try:
        with session_scope(engine) as session:
            session.add(
                Trajectory(
                    reference=reference,
                    area=Area(
                        name="Winkelcentrum Echt",
                        kind=AreaKind.WINKELGEBIED,
                        municipality="Breda",
                        province=Province.NOORD_BRABANT,
                        contact_area=ContactArea.ZEELAND_WEST_BRABANT,
                    ),
                    kind=TrajectoryKind.FIRST_CERTIFICATION,
                    target_stars=1,
                    current_phase=2,
                    access_code_hash=access_codes.hash_code(REAL_CODE, settings),
                )
            )
    finally:
        engine.dispose()


def _hash_of(url: str, settings: Settings, reference: str) -> str:
    engine = make_engine(url, settings)
    try:
        with session_scope(engine) as session:
            return session.scalars(
                select(Trajectory.access_code_hash).where(Trajectory.reference == reference)
            ).one()
    finally:
        engine.dispose()


def _count(url: str, settings: Settings, model: type) -> int:
    engine = make_engine(url, settings)
    try:
        with session_scope(engine) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


# --- demo data only in a demo database ------------------------------------------------------


def test_demo_load_refuses_an_unmarked_database(migrated: str, runner: CliRunner) -> None:
    result = _kvo(runner, migrated, "demo", "load")
    assert result.exit_code == 1
    assert "niet gemarkeerd als demodatabase" in result.stderr
    assert "Er is niets gewijzigd" in result.stderr
    assert "Traceback" not in result.output


def test_create_demo_marks_an_empty_database_and_loads(
    migrated: str, runner: CliRunner, kvo_settings: Settings
) -> None:
    result = _kvo(runner, migrated, "demo", "load", "--create-demo")
    assert result.exit_code == 0, result.output
    assert "gemarkeerd als demodatabase" in result.stderr
    assert _count(migrated, kvo_settings, Trajectory) == len(DEMO_TRAJECTORIES)
    # Marked now: a plain load works, and --create-demo again is harmless.
    assert _kvo(runner, migrated, "demo", "load").exit_code == 0
    again = _kvo(runner, migrated, "demo", "load", "--create-demo")
    assert again.exit_code == 0 and "gemarkeerd" not in again.stderr


def test_an_older_demo_only_database_is_marked_without_a_manual_step(
    migrated: str, runner: CliRunner, kvo_settings: Settings
) -> None:
    # var/kvo.sqlite3 of an earlier `make run`: demo (and bench) data, but no mark yet.
    engine = make_engine(migrated, kvo_settings)
    try:
        with session_scope(engine) as session:
            mark_demo(session)
            load_demo_data(session, settings=kvo_settings)
            generate_bench_data(session, 20, settings=kvo_settings)
        with session_scope(engine) as session:
            session.execute(delete(KvoMeta))
        with session_scope(engine) as session:
            assert not is_demo_database(session)
            assert real_data_rows(session) == 0
    finally:
        engine.dispose()
    result = _kvo(runner, migrated, "demo", "load", "--create-demo")  # what `make db` runs
    assert result.exit_code == 0, result.output


def test_a_real_database_is_refused_and_left_alone(
    migrated: str, runner: CliRunner, kvo_settings: Settings
) -> None:
    # The incident: a real trajectory with a number the demo also uses got the README's code.
    _add_real_trajectory(migrated, kvo_settings)
    before = _hash_of(migrated, kvo_settings, "KVO-2024-0031")
    for command in (
        ["demo", "load", "--create-demo"],
        ["demo", "load"],
        ["bench-data", "10", "--create-demo"],
        ["bench-data", "10"],
    ):
        result = _kvo(runner, migrated, *command)
        assert result.exit_code == 1, command
        assert "Er is niets gewijzigd" in result.stderr, command
        assert "Traceback" not in result.output
    refused = _kvo(runner, migrated, "demo", "load", "--create-demo")
    assert "rijen die niet van de demo- of benchmarkdata komen" in refused.stderr
    assert _hash_of(migrated, kvo_settings, "KVO-2024-0031") == before
    assert access_codes.verify_code(REAL_CODE, before, kvo_settings)
    assert _count(migrated, kvo_settings, Trajectory) == 1
    assert _count(migrated, kvo_settings, KvoMeta) == 0


def test_the_loaders_themselves_refuse_an_unmarked_database(
    migrated: str, kvo_settings: Settings
) -> None:
    engine = make_engine(migrated, kvo_settings)
    try:
        with pytest.raises(NotADemoDatabase), session_scope(engine) as session:
            load_demo_data(session, settings=kvo_settings)
        with pytest.raises(NotADemoDatabase), session_scope(engine) as session:
            generate_bench_data(session, 5, settings=kvo_settings)
    finally:
        engine.dispose()
    assert _count(migrated, kvo_settings, Trajectory) == 0


def test_mark_demo_asks_before_marking_a_database_with_real_data(
    migrated: str, runner: CliRunner, kvo_settings: Settings
) -> None:
    _add_real_trajectory(migrated, kvo_settings, reference="KVO-2023-0500")
    declined = _kvo(runner, migrated, "db", "mark-demo", input="n\n")
    assert declined.exit_code == 1
    assert "niet bevestigd" in declined.stderr
    no_terminal = _kvo(runner, migrated, "db", "mark-demo")  # no answer at all: no
    assert no_terminal.exit_code == 1
    assert _count(migrated, kvo_settings, KvoMeta) == 0

    confirmed = _kvo(runner, migrated, "db", "mark-demo", input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "gemarkeerd als demodatabase" in confirmed.stdout
    assert _kvo(runner, migrated, "demo", "load").exit_code == 0


def test_mark_demo_on_an_empty_database_needs_no_confirmation(
    migrated: str, runner: CliRunner
) -> None:
    result = _kvo(runner, migrated, "db", "mark-demo")
    assert result.exit_code == 0, result.output
    assert "was al een" in _kvo(runner, migrated, "db", "mark-demo").stdout


# --- downgrade --------------------------------------------------------------------------------


def test_downgrade_needs_an_explicit_revision(migrated: str, runner: CliRunner) -> None:
    result = _kvo(runner, migrated, "db", "downgrade")
    assert result.exit_code != 0
    assert migrate.head_revision() == _current(migrated)


def _current(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def test_downgrade_asks_for_confirmation(migrated: str, runner: CliRunner) -> None:
    for answer in (None, "n\n", "\n"):
        result = _kvo(runner, migrated, "db", "downgrade", "base", input=answer)
        assert result.exit_code == 1, answer
        assert "niet bevestigd; er is niets gewijzigd" in result.stderr
        assert _current(migrated) == migrate.head_revision()
    confirmed = _kvo(runner, migrated, "db", "downgrade", "0001_initial", input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "verwijderd" in confirmed.stdout  # the question named what goes
    assert _current(migrated) == "0001_initial"
    scripted = _kvo(runner, migrated, "db", "downgrade", "base", "--yes")
    assert scripted.exit_code == 0, scripted.output
    assert _current(migrated) is None


# --- lockouts ----------------------------------------------------------------------------------


def test_lockouts_list_and_clear(migrated: str, runner: CliRunner, kvo_settings: Settings) -> None:
    from kvo.status import LockedOut, check_status

    now = datetime.now(UTC)
    client = "0123456789abcdef0123456789abcdef"
    engine = make_engine(migrated, kvo_settings)
    try:
        with session_scope(engine) as session:
            for i in range(5):
                check_status(
                    session,
                    "KVO-2024-0031",
                    f"ABCD-EFG{'HJKLM'[i]}",
                    f"stranger-{i}",
                    now,
                    settings=kvo_settings,
                    client_key=client,
                )
            check_status(session, "KVO-2024-0044", "ABCD-EFGH", "other", now, settings=kvo_settings)
    finally:
        engine.dispose()

    listed = _kvo(runner, migrated, "lockouts", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("Soort")
    assert len(lines) == 2  # only the locked reference; no code, no conversation id
    assert "referentie" in lines[1] and "KVO-2024-0031" in lines[1] and " 5 " in lines[1]
    assert "ABCD" not in listed.stdout and "stranger" not in listed.stdout
    everything = _kvo(runner, migrated, "lockouts", "list", "--all")
    assert "KVO-2024-0044" in everything.stdout
    assert client[:12] in everything.stdout and client not in everything.stdout

    cleared = _kvo(runner, migrated, "lockouts", "clear", "kvo 2024 31")
    assert cleared.exit_code == 0, cleared.output
    assert "5 mislukte pogingen van KVO-2024-0031 verwijderd" in cleared.stdout
    assert _kvo(runner, migrated, "lockouts", "list").stdout.strip() == "Geen blokkades."
    engine = make_engine(migrated, kvo_settings)
    try:
        with session_scope(engine) as session:
            outcome = check_status(
                session, "KVO-2024-0031", "ABCD-EFGH", "owner", now, settings=kvo_settings
            )
    finally:
        engine.dispose()
    assert not isinstance(outcome, LockedOut)

    by_key = _kvo(runner, migrated, "lockouts", "clear", "--key", client[:12])
    assert by_key.exit_code == 0, by_key.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rommel"], "geen geldige referentie"),
        (["--key", "abc"], "geen geldige sleutel"),
        (["--key", "%%%%%%%%%%%%%%"], "geen geldige sleutel"),
        ([], "geef een referentie of --key"),
        (["KVO-2024-0031", "--key", "0123456789ab"], "geef een referentie of --key"),
    ],
)
def test_lockouts_clear_errors_are_one_line(
    migrated: str, runner: CliRunner, args: list[str], message: str
) -> None:
    result = _kvo(runner, migrated, "lockouts", "clear", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
