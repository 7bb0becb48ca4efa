"""The operator CLI for leads and mail, run against real databases and a real SMTP sink."""

from __future__ import annotations

import csv
import io
import smtplib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kvo.availability import free_slots
from kvo.cli import app
from kvo.db import make_engine, session_scope
from kvo.intake import Booked, finalize_booking
from kvo.models import ContactArea
from kvo.settings import REPO_ROOT, Settings
from kvo.timeutil import utc_now
from tests.kvo.intake_support import intake_fields
from tests.kvo.mail_support import SmtpSink, free_port

PERSONAL = ("Jan de Vries", "jan.de.vries@example.org", "06 12345678", "Bakkerij De Vries")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def booked_db(
    kvo_backend: str,
    fresh_database_url: Callable[[str], str],
    runner: CliRunner,
    kvo_settings: Settings,
) -> tuple[str, str]:
    """A migrated database with the demo data and one intake booked now; (url, reference)."""
    url = fresh_database_url(kvo_backend)
    for command in (["db", "upgrade"], ["demo", "load", "--create-demo"]):
        result = runner.invoke(app, ["--database-url", url, *command])
        assert result.exit_code == 0, result.output
    engine = make_engine(url, kvo_settings)
    try:
        with session_scope(engine) as session:
            now = utc_now()
            slot = free_slots(
                session, ContactArea.ZEELAND_WEST_BRABANT, now, settings=kvo_settings
            )[0]
            outcome = finalize_booking(
                session,
                intake_fields(consent_at=now),
                slot.starts_at,
                "cli-conv",
                "k",
                now,
                settings=kvo_settings,
            )
    finally:
        engine.dispose()
    assert isinstance(outcome, Booked)
    return url, outcome.reference


def _run(runner: CliRunner, url: str, *args: str) -> object:
    return runner.invoke(app, ["--database-url", url, *args])


def test_list_shows_no_personal_data(booked_db: tuple[str, str], runner: CliRunner) -> None:
    url, reference = booked_db
    result = _run(runner, url, "leads", "list")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert reference in result.stdout  # type: ignore[attr-defined]
    assert "gepland" in result.stdout and "Breda" in result.stdout  # type: ignore[attr-defined]
    for value in PERSONAL:
        assert value not in result.output  # type: ignore[attr-defined]
    filtered = _run(runner, url, "leads", "list", "--contactgebied", "ob")
    assert reference not in filtered.stdout  # type: ignore[attr-defined]


def test_show_and_export_show_the_lead(
    booked_db: tuple[str, str], runner: CliRunner, tmp_path: Path
) -> None:
    url, reference = booked_db
    shown = _run(runner, url, "leads", "show", reference.lower())
    assert shown.exit_code == 0, shown.output  # type: ignore[attr-defined]
    for value in PERSONAL:
        assert value in shown.stdout  # type: ignore[attr-defined]
    assert "afgerond, afgewezen, geannuleerd" in shown.stdout  # type: ignore[attr-defined]

    exported = _run(runner, url, "leads", "export", "--status", "gepland")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))  # type: ignore[attr-defined]
    assert [row["referentie"] for row in rows] == [reference]
    assert rows[0]["naam"] == "Jan de Vries"
    target = tmp_path / "leads.csv"
    to_file = _run(runner, url, "leads", "export", "--uitvoer", str(target))
    assert to_file.exit_code == 0 and reference in target.read_text(encoding="utf-8")  # type: ignore[attr-defined]


def _tracker_store(path: Path, senders: tuple[str, ...]) -> str:
    """A SQLite file with the columns of Rasa's SQL tracker store that the purge reads."""
    url = f"sqlite:///{path}"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
            " action_name VARCHAR(255), data TEXT)"
        )
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', 1.0, '{}')",
            [(sender,) for sender in senders],
        )
    return url


def _senders(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return sorted(row[0] for row in connection.execute("SELECT sender_id FROM events"))


def test_status_erase_and_purge(
    booked_db: tuple[str, str],
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, reference = booked_db
    tracker = tmp_path / "tracker.sqlite3"
    monkeypatch.setenv("TRACKER_DB_URL", _tracker_store(tracker, ("cli-conv", "other-conv")))
    monkeypatch.setenv("EVENTS_DB_URL", f"sqlite:///{tmp_path / 'events.sqlite3'}")
    refused = _run(runner, url, "leads", "status", reference, "nieuw")
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    assert "mag niet" in refused.stderr and "Traceback" not in refused.output  # type: ignore[attr-defined]
    done = _run(runner, url, "leads", "status", reference, "afgerond", "--door", "Sanne")
    assert done.exit_code == 0 and "gepland -> afgerond" in done.stdout  # type: ignore[attr-defined]

    unconfirmed = _run(runner, url, "leads", "erase", reference)
    assert unconfirmed.exit_code == 1 and "--ja" in unconfirmed.stderr  # type: ignore[attr-defined]
    erased = _run(runner, url, "leads", "erase", reference, "--ja")
    assert erased.exit_code == 0, erased.output  # type: ignore[attr-defined]
    assert _senders(tracker) == ["other-conv"]  # the lead's conversation went with it
    shown = _run(runner, url, "leads", "show", reference)
    for value in PERSONAL:
        assert value not in shown.stdout  # type: ignore[attr-defined]
    purged = _run(runner, url, "leads", "purge")
    assert purged.exit_code == 0 and "0 leads gewist" in purged.stdout  # type: ignore[attr-defined]


def test_expected_errors_are_one_line(booked_db: tuple[str, str], runner: CliRunner) -> None:
    url, _reference = booked_db
    for args, message in (
        (("leads", "show", "INT-ZZZZZZ"), "geen lead gevonden"),
        (("leads", "list", "--status", "klaar"), "onbekende status"),
        (("leads", "list", "--van", "gisteren"), "ongeldige datum"),
        (("leads", "list", "--sorteer", "naam"), "onbekende sortering"),
    ):
        result = _run(runner, url, *args)
        assert result.exit_code == 1, args  # type: ignore[attr-defined]
        assert message in result.stderr  # type: ignore[attr-defined]
        assert len(result.stderr.strip().splitlines()) == 1  # type: ignore[attr-defined]
        assert "Traceback" not in result.output  # type: ignore[attr-defined]


def test_mail_worker_once_and_status(
    booked_db: tuple[str, str],
    runner: CliRunner,
    smtp_sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _reference = booked_db
    monkeypatch.setenv("PVO_SMTP_PORT", str(smtp_sink.port))
    monkeypatch.setenv("PVO_STAFF_EMAIL_ZWB", "intake-zwb@pvo.example")
    result = _run(runner, url, "mail", "worker", "--once")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert result.stdout.startswith("Mail: 3 verstuurd")  # type: ignore[attr-defined]
    assert len(smtp_sink.messages()) == 3
    status = _run(runner, url, "mail", "status")
    assert "verstuurd: 3" in status.stdout  # type: ignore[attr-defined]
    for value in PERSONAL:
        assert value not in status.output + result.output  # type: ignore[attr-defined]


def test_mail_sink_stores_each_mail_and_says_where(tmp_path: Path) -> None:
    port = free_port()
    folder = tmp_path / "mail"
    process = subprocess.Popen(
        [sys.executable, "-m", "kvo", "mail", "sink", "--port", str(port), "--map", str(folder)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "sink did not start"
                time.sleep(0.2)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            "a@pvo.example",
            "b@pvo.example",
            "Test",
        )
        message.set_content("Hallo")
        with client:
            client.send_message(message)
        saved = list(folder.glob("*.eml"))
        assert len(saved) == 1 and b"Subject: Test" in saved[0].read_bytes()

        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "kvo",
                "mail",
                "sink",
                "--port",
                str(port),
                "--map",
                str(folder),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 1
        assert "kan niet luisteren" in second.stderr and "Traceback" not in second.stderr
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=30)
    assert f"SMTP-sink luistert op 127.0.0.1:{port}" in err
    assert "Mail opgeslagen:" in err and ".eml" in err
