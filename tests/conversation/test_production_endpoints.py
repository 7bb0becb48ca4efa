"""The production endpoint file (PostgreSQL tracker store inside our redacting store, Redis lock
store): odd sender ids never reach the database, and the server keeps answering.

Rasa's PostgreSQL store ends the whole process on a NUL byte in a sender id (its error path calls
sys.exit); our channels refuse such ids before any store sees them.
"""

from __future__ import annotations

import os
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


@pytest.fixture(scope="module")
def tracker_database() -> Iterator[str]:
    admin = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL
    try:
        with throwaway_postgres_database(admin, prefix="tracker_test") as url:
            yield url
    except PostgresUnavailable as error:
        require(False, f"PostgreSQL not reachable (set TEST_POSTGRES_URL): {error}")


@pytest.fixture(scope="module")
def production_engine(
    tracker_database: str,
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
