"""`python -m kvo conversations purge` against databases written by Rasa's own SQL stores.

The rows come from Rasa 3.6's SQLTrackerStore and SQLEventBroker (run with the engine's Python
by rasa_events_writer.py), on an SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from kvo.cli import app
from kvo.db import normalize_database_url
from tests.support import ENGINE_PYTHON, REPO, require

DAY = 24 * 3600
WRITER = Path(__file__).with_name("rasa_events_writer.py")


def _write_with_rasa(job: dict) -> None:
    require(ENGINE_PYTHON.exists(), f"the engine environment is missing ({ENGINE_PYTHON})")
    completed = subprocess.run(
        [str(ENGINE_PYTHON), str(WRITER)],
        input=json.dumps(job),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


def _rasa_params(url: str) -> dict[str, object]:
    """Rasa's endpoint keys (dialect, host, port, db, username) for a database URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": parsed.database}
    return {
        "dialect": "postgresql",
        "host": parsed.host,
        "port": parsed.port or 5432,
        "db": parsed.database,
        "username": parsed.username,
    }


@pytest.fixture
def store_urls(
    kvo_backend: str, fresh_database_url: Callable[[str], str]
) -> Iterator[tuple[str, str, str]]:
    """Empty databases for the tracker store, the event broker, and a scratch tracker store."""
    with ExitStack():
        yield (
            fresh_database_url(kvo_backend),
            fresh_database_url(kvo_backend),
            fresh_database_url(kvo_backend),
        )


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")
            )
            return {sender: count for sender, count in rows}
    finally:
        engine.dispose()


def _purge(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, *args: str, **env: str
) -> tuple[int, str, str]:
    for name in ("TRACKER_DB_URL", "EVENTS_DB_URL", "PVO_CONVERSATION_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["conversations", "purge", *args])
    return result.exit_code, result.stdout, result.stderr


def test_old_conversations_go_from_both_stores(
    store_urls: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker_url, broker_url, scratch_url = store_urls
    now = time.time()
    _write_with_rasa(
        {
            "tracker": _rasa_params(tracker_url),
            "broker": _rasa_params(broker_url),
            "conversations": [
                {"sender_id": "old-one", "timestamps": [now - 40 * DAY, now - 35 * DAY]},
                {"sender_id": "old-two", "timestamps": [now - 31 * DAY]},
                {"sender_id": "recent", "timestamps": [now - 5 * DAY]},
                # Still going on: kept whole, its first turn included.
                {"sender_id": "long-running", "timestamps": [now - 45 * DAY, now - 1 * DAY]},
            ],
        }
    )
    # A conversation that only the broker has (its tracker store kept it elsewhere).
    _write_with_rasa(
        {
            "tracker": _rasa_params(scratch_url),
            "broker": _rasa_params(broker_url),
            "conversations": [{"sender_id": "broker-only", "timestamps": [now - 60 * DAY]}],
        }
    )
    tracker_before, broker_before = _counts(tracker_url), _counts(broker_url)
    assert set(tracker_before) == {"old-one", "old-two", "recent", "long-running"}
    assert set(broker_before) == {*tracker_before, "broker-only"}

    runner = CliRunner()
    code, stdout, stderr = _purge(
        runner,
        monkeypatch,
        TRACKER_DB_URL=tracker_url,
        EVENTS_DB_URL=broker_url,
        PVO_CONVERSATION_RETENTION_DAYS="30",
    )
    assert code == 0, stderr
    old_rows = tracker_before["old-one"] + tracker_before["old-two"]
    assert f"2 gesprekken ouder dan 30 dagen verwijderd ({old_rows} events)" in stdout
    assert "Event broker" in stdout and "3 gesprekken" in stdout
    kept = {sender: tracker_before[sender] for sender in ("recent", "long-running")}
    assert _counts(tracker_url) == kept
    assert _counts(broker_url) == {sender: broker_before[sender] for sender in kept}

    # A shorter period given on the command line; a second run finds nothing more.
    code, stdout, _ = _purge(
        runner, monkeypatch, "--older-than-days", "3", TRACKER_DB_URL=tracker_url
    )
    assert code == 0
    assert "1 gesprek ouder dan 3 dagen verwijderd" in stdout
    assert set(_counts(tracker_url)) == {"long-running"}
    code, stdout, _ = _purge(
        runner, monkeypatch, "--older-than-days", "3", TRACKER_DB_URL=tracker_url
    )
    assert "0 gesprekken" in stdout


def test_without_a_tracker_database_there_is_nothing_to_purge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, stdout, _ = _purge(CliRunner(), monkeypatch)
    assert code == 0
    assert "TRACKER_DB_URL is niet gezet" in stdout
    assert "in het geheugen" in stdout


def test_a_database_without_events_is_a_clear_error(
    kvo_backend: str, fresh_database_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, stderr = _purge(
        CliRunner(), monkeypatch, TRACKER_DB_URL=fresh_database_url(kvo_backend)
    )
    assert code == 1
    assert "geen tabel events" in stderr
    assert "Traceback" not in stderr


def test_an_unreachable_tracker_database_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, stderr = _purge(
        CliRunner(),
        monkeypatch,
        TRACKER_DB_URL="postgresql://rasa:topsecret@127.0.0.1:9/tracker",
    )
    assert code == 1
    assert "database niet bereikbaar" in stderr
    assert "topsecret" not in stderr


def test_the_period_must_be_at_least_a_day(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, _ = _purge(CliRunner(), monkeypatch, "--older-than-days", "0")
    assert code != 0
