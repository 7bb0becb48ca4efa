"""The buffered event broker under the real engine: a conversation over REST with the trained
model, Rasa's SQL tracker store in one SQLite file and the broker's events in another.

The rows must land in the events database only, in our own table, with the conversation's
messages, actions and response names; the staff side then finds the unanswered turn.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect, select

from kvo import visitor_questions as vq
from tests.conversation.conftest import stop, wait_for
from tests.support import MODEL, RASA, REPO, ActionServer, free_port, require


@pytest.fixture(scope="module")
def broker_stack(
    action_server: ActionServer,
    server_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Path, Path]]:
    require(MODEL.exists(), f"no trained model at {MODEL}: run `make train` (make test does)")
    folder = tmp_path_factory.mktemp("broker")
    tracker_db, events_db = folder / "tracker.db", folder / "events.db"
    endpoints = folder / "endpoints.yml"
    endpoints.write_text(
        "action_endpoint:\n"
        f'  url: "{action_server.webhook}"\n'
        "  headers:\n"
        f'    Authorization: "Bearer {action_server.token}"\n'
        "tracker_store:\n"
        "  type: SQL\n"
        "  dialect: sqlite\n"
        f'  db: "{tracker_db}"\n'
        "event_broker:\n"
        "  type: bot.event_broker.BufferedSQLEventBroker\n"
        "  flush_interval: 0.2\n"
    )
    env = {**server_env, "EVENTS_DB_URL": f"sqlite:///{events_db}"}
    env.pop("TRACKER_DB_URL", None)
    port = free_port()
    log = folder / "rasa.log"
    command = [
        str(RASA), "run", "--port", str(port), "--model", str(MODEL),
        "--endpoints", str(endpoints), "--credentials", "credentials.yml",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/", "Hello from Rasa", process, log)
        yield f"http://127.0.0.1:{port}", tracker_db, events_db
    finally:
        stop(process)


def _say(url: str, sender: str, text: str) -> list[dict]:
    response = httpx.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_events_go_to_the_events_database_only(broker_stack: tuple[str, Path, Path]) -> None:
    url, tracker_db, events_db = broker_stack
    sender = f"broker-{time.monotonic_ns()}"
    _say(url, sender, "hallo")
    _say(url, sender, "wat kost het keurmerk?")
    _say(url, sender, "ik wil graag een medewerker spreken, mail jan@example.nl")

    engine = create_engine(f"sqlite:///{events_db}")
    try:
        rows: list = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                if inspect(connection).has_table(vq.EVENTS.name):
                    rows = list(
                        connection.execute(
                            select(
                                vq.EVENTS.c.type,
                                vq.EVENTS.c.text,
                                vq.EVENTS.c.intent,
                                vq.EVENTS.c.response,
                                vq.EVENTS.c.action,
                            )
                            .where(vq.EVENTS.c.conversation_id == sender)
                            .order_by(vq.EVENTS.c.id)
                        )
                    )
            if any(row.action == "utter_handoff" for row in rows):
                break
            time.sleep(0.3)
        user_texts = [row.text for row in rows if row.type == "user"]
        assert user_texts[:2] == ["hallo", "wat kost het keurmerk?"]
        assert any(row.intent == "greet" for row in rows if row.type == "user")
        assert any(
            (row.response or "").startswith("utter_faq/") for row in rows if row.type == "bot"
        )
        assert any(row.action == "utter_handoff" for row in rows)  # the handoff, engine-only
        # Ours alone: no Rasa `events` table here, and nothing of ours in the tracker store.
        assert not inspect(engine).has_table("events")
    finally:
        engine.dispose()
    tracker = create_engine(f"sqlite:///{tracker_db}")
    try:
        tables = set(inspect(tracker).get_table_names())
        assert "events" in tables and vq.EVENTS.name not in tables
    finally:
        tracker.dispose()

    events_engine = vq.events_engine(f"sqlite:///{events_db}")
    try:
        groups = vq.unanswered_groups(events_engine, outcome="handoff")
        assert [g.text for g in groups] == ["ik wil graag een medewerker spreken, mail <e-mail>"]
    finally:
        events_engine.dispose()
