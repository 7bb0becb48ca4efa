"""The production endpoint file (PostgreSQL tracker store inside our redacting store, Redis lock
store, the buffered event broker into its own PostgreSQL database): odd sender ids never reach the
database, the server keeps answering, and an intake that is stopped or refused leaves the visitor's
name, e-mail address and phone number nowhere: not in the domain database, the tracker store, the
broker's events or the logs.

Rasa's PostgreSQL store ends the whole process on a NUL byte in a sender id (its error path calls
sys.exit); our channels refuse such ids before any store sees them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kvo.scratch_db import (
    DEFAULT_TEST_POSTGRES_URL,
    PostgresUnavailable,
    throwaway_postgres_database,
)
from tests.conversation.conftest import Chat
from tests.conversation.test_intake_conversations import database_text
from tests.support import (
    REPO,
    ActionServer,
    Engine,
    engine_env,
    require,
    running_engine,
)

pytestmark = pytest.mark.postgres
REDIS_LOCK_DB = "7"


def _redis_reachable() -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", 6379)) == 0


def _throwaway_database(prefix: str) -> Iterator[str]:
    admin = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL
    try:
        with throwaway_postgres_database(admin, prefix=prefix) as url:
            yield url
    except PostgresUnavailable as error:
        require(False, f"PostgreSQL not reachable (set TEST_POSTGRES_URL): {error}")


@pytest.fixture(scope="module")
def tracker_database() -> Iterator[str]:
    yield from _throwaway_database("tracker_test")


@pytest.fixture(scope="module")
def events_database() -> Iterator[str]:
    yield from _throwaway_database("events_test")


@pytest.fixture(scope="module")
def production_engine(
    tracker_database: str,
    events_database: str,
    server_env: dict[str, str],
    action_server: ActionServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Engine]:
    require(_redis_reachable(), "Redis not reachable on 127.0.0.1:6379")
    url = make_url(tracker_database)
    env = engine_env(
        server_env,
        action_server.token,
        ACTION_SERVER_URL=action_server.webhook,
        TRACKER_DB_HOST=url.host or "127.0.0.1",
        TRACKER_DB_PORT=str(url.port or 5432),
        TRACKER_DB_NAME=url.database or "",
        TRACKER_DB_USER=url.username or "",
        TRACKER_DB_PASSWORD=url.password or "",
        REDIS_HOST="127.0.0.1",
        REDIS_PORT="6379",
        REDIS_LOCK_DB=REDIS_LOCK_DB,
        REDIS_PASSWORD="",
        # The engine's SQLAlchemy 1.4 speaks to PostgreSQL through psycopg2, its default driver.
        EVENTS_DB_URL=make_url(events_database)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False),
        # Each test conversation is its own client (X-Forwarded-For) for the rate limit.
        PVO_PROXIES_COUNT="1",
    )
    log = tmp_path_factory.mktemp("production") / "engine.log"
    endpoints = REPO / "deploy" / "endpoints.production.yml"
    with running_engine(env, endpoints, log) as engine:
        yield engine


def say(engine: Engine, sender: object, message: str = "wat kost het keurmerk?") -> httpx.Response:
    return httpx.post(engine.webhook, json={"sender": sender, "message": message}, timeout=30)


@pytest.mark.parametrize(
    "sender",
    ["nul\x00byte", "\x00", "x" * 129, "x" * 100_000],
    ids=["nul-inside", "nul-only", "129-chars", "100k-chars"],
)
def test_odd_sender_ids_are_refused_and_the_server_keeps_answering(
    production_engine: Engine, sender: str
) -> None:
    assert say(production_engine, sender).status_code in (400, 413)
    assert production_engine.process.poll() is None, "the engine stopped"
    answer = say(production_engine, "test-after-odd-sender")
    assert answer.status_code == 200 and answer.json()


def test_the_longest_allowed_sender_id_is_stored_without_the_code(
    production_engine: Engine, tracker_database: str
) -> None:
    sender = "test-" + "[x]:._-" * 17 + "abc"
    assert len(sender) == 127
    assert say(production_engine, sender, "status KVO-2024-0031").status_code == 200
    reply = say(production_engine, sender, "WVZ4-LWUX")
    assert "stap 2 van 5" in " ".join(m.get("text") or "" for m in reply.json())
    engine = create_engine(tracker_database.replace("postgresql+psycopg", "postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("select data from events where sender_id = :s"), {"s": sender}
            ).all()
    finally:
        engine.dispose()
    stored = " ".join(row[0] for row in rows).upper().replace("-", "")
    assert rows and "WVZ4LWUX" not in stored


def test_the_log_holds_no_code(production_engine: Engine) -> None:
    log: Path = production_engine.log
    assert "WVZ4LWUX" not in log.read_text(errors="replace").upper().replace("-", "")


def _all_text(database_url: str) -> str:
    """Every value in every table of a PostgreSQL database, as one string."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                text("select tablename from pg_tables where schemaname = 'public'")
            ).scalars()
            return "\n".join(
                str(row)
                for table in list(tables)
                for row in connection.execute(text(f'select * from "{table}"'))
            )
    finally:
        engine.dispose()


def _senders_with_rows(database_url: str, table: str, column: str, senders: set[str]) -> set[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(f'select distinct "{column}" from "{table}"')).scalars()
            return senders & set(rows)
    finally:
        engine.dispose()


# What the visitors type, and the fragments of it that must be found nowhere.
STOPPED_WITH_EMAIL = [
    "ik wil een intake plannen",
    "ja",
    "Karel Halverwege",
    "karel.halverwege@voorbeeld.nl",
    "stop",
]
STOPPED_WITH_PHONE = ["ik wil een intake", "ja", "Tineke Telefoonboek", "06 87654321", "laat maar"]
NO_CONSENT = [
    "Goedemiddag, ik ben Gerrit Geenopslag. Wij willen een intake, bel mij op 06-11223344 of mail gerrit@geenopslag.nl",
    "nee",
]
PERSONAL = (
    "Halverwege",
    "halverwege@",
    "Telefoonboek",
    "87654321",
    "Geenopslag",
    "geenopslag.nl",
    "11223344",
)


def test_a_stopped_or_refused_intake_leaves_no_personal_data_anywhere(
    production_engine: Engine,
    tracker_database: str,
    events_database: str,
    chat_database_url: str,
    server_logs: dict[str, Path],
) -> None:
    senders: dict[str, list[dict]] = {}
    for name, messages in (
        ("stopped-email", STOPPED_WITH_EMAIL),
        ("stopped-phone", STOPPED_WITH_PHONE),
        ("no-consent", NO_CONSENT),
    ):
        chat = Chat(production_engine.url, f"test-privacy-{name}-{time.monotonic_ns()}")
        senders[chat.sender] = [m for typed in messages for m in chat.say(typed)]
    replies = {
        sender: " ".join(m.get("text") or "" for m in said) for sender, said in senders.items()
    }
    stopped_email, stopped_phone, no_consent = replies.values()
    assert "gewist" in stopped_email and "gewist" in stopped_phone, replies
    assert "niets van u bewaard" in no_consent, no_consent

    # The broker writes in the background: wait until every conversation has its rows.
    deadline = time.monotonic() + 15
    while _senders_with_rows(
        events_database, "visitor_events", "conversation_id", set(senders)
    ) != set(senders):
        assert time.monotonic() < deadline, "the event broker wrote no rows for the conversations"
        time.sleep(0.3)
    assert _senders_with_rows(tracker_database, "events", "sender_id", set(senders)) == set(senders)

    places = {
        "domain database": database_text(chat_database_url),
        "tracker store": _all_text(tracker_database),
        "event broker": _all_text(events_database),
        "engine log": production_engine.log.read_text(errors="replace"),
        "action server log": server_logs["actions"].read_text(errors="replace"),
    }
    found = [
        (place, typed)
        for place, content in places.items()
        for typed in PERSONAL
        if typed in content
    ]
    assert found == []
