"""A running assistant for conversation tests: action server + Rasa server with the trained model.

Both run on free ports against a fresh SQLite database with the demo data, so the tests neither
need nor disturb a `make run` on the default ports. Started once per test session.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kvo import migrate
from kvo.db import make_engine, session_scope
from kvo.db_purpose import mark_demo
from kvo.demo_data import load_demo_data
from tests.support import (
    ActionServer,
    Engine,
    engine_env,
    running_action_server,
    running_engine,
)

STARTUP_TIMEOUT_SECONDS = 240


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/conversation/" in str(item.fspath):
            item.add_marker(pytest.mark.model)


def wait_for(url: str, ready: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}; log:\n{log.read_text()[-3000:]}")
        try:
            if ready in httpx.get(url, timeout=2).text:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(
        f"{url} not ready after {STARTUP_TIMEOUT_SECONDS} s; log:\n{log.read_text()[-3000:]}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def chat_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('chat-db') / 'kvo.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        mark_demo(session)
        load_demo_data(session)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def server_env(chat_database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=chat_database_url,
        PYTHONWARNINGS="ignore",
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        # The lockout tests count on the defaults.
        PVO_LOCKOUT_MAX_ATTEMPTS="5",
        PVO_LOCKOUT_WINDOW_MINUTES="60",
    )
    return env


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Where the action server and the Rasa server write their logs during the tests."""
    folder = tmp_path_factory.mktemp("logs")
    return {"actions": folder / "actions.log", "rasa": folder / "rasa.log"}


@pytest.fixture(scope="session")
def action_server(
    server_env: dict[str, str], server_logs: dict[str, Path]
) -> Iterator[ActionServer]:
    """The action server as production runs it (`python -m actions.server`, bearer token)."""
    with running_action_server(server_env, server_logs["actions"]) as server:
        yield server


SENSITIVE_SLOTS = ("access_code",)


def endpoints_yaml(action_server: ActionServer, tracker_store_wrapped: str = "") -> str:
    """An endpoints file like endpoints.yml, pointing at `action_server`."""
    slots = "".join(f"    - {slot}\n" for slot in SENSITIVE_SLOTS)
    return (
        "action_endpoint:\n"
        f'  url: "{action_server.webhook}"\n'
        "  headers:\n"
        f'    Authorization: "Bearer {action_server.token}"\n'
        "nlg:\n"
        "  type: bot.nlg.PvoResponseGenerator\n"
        "tracker_store:\n"
        "  type: bot.tracker_store.RedactingTrackerStore\n"
        "  sensitive_slots:\n"
        f"{slots}{tracker_store_wrapped}"
    )


@pytest.fixture(scope="session")
def endpoints_file(action_server: ActionServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rasa") / "endpoints.yml"
    path.write_text(endpoints_yaml(action_server))
    return path


@pytest.fixture(scope="session")
def engine(
    endpoints_file: Path,
    server_env: dict[str, str],
    server_logs: dict[str, Path],
    action_server: ActionServer,
) -> Iterator[Engine]:
    """The engine as production runs it, with the HTTP API on (token) so tests can read trackers.

    It trusts one proxy hop, so each test conversation can act as its own client through
    X-Forwarded-For (the rate limit is per client).
    """
    env = engine_env(
        server_env,
        action_server.token,
        PVO_PROXIES_COUNT="1",
        PVO_OFFICE_HOURS="ma-vr 09:00-17:00",
    )
    with running_engine(env, endpoints_file, server_logs["rasa"], enable_api=True) as running:
        yield running


@pytest.fixture(scope="session")
def rasa_url(engine: Engine) -> str:
    return engine.url


class Chat:
    """One conversation over the REST channel."""

    def __init__(self, rasa_url: str, sender: str) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.sender = sender
        # Each conversation is its own client for the per-client rate limit (see `engine`).
        self.headers = {
            "X-Forwarded-For": f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        }

    def say(self, text: str) -> list[dict]:
        response = httpx.post(
            self.url,
            json={"sender": self.sender, "message": text},
            headers=self.headers,
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def texts(self, text: str) -> str:
        """Everything the bot answers to `text`, as one string."""
        return "\n".join(message.get("text") or "" for message in self.say(text))


@pytest.fixture
def chat(rasa_url: str, request: pytest.FixtureRequest) -> Chat:
    # A new conversation per test: the sender id is unique and carries no personal data. Test
    # parameters may hold any character; the channels accept only the sender id pattern.
    name = re.sub(r"[^A-Za-z0-9_.:-]", "_", request.node.name)[:80]
    return Chat(rasa_url, f"test-{name}-{time.monotonic_ns()}")
