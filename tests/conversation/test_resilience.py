"""Always a reply, and access codes stored nowhere: an engine with a SQLite tracker database and an
action server the tests stop, hang and bring back.

One engine for the whole module (starting one takes a while); the tests run in file order.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from tests.conversation.conftest import endpoints_yaml
from tests.support import (
    ActionServer,
    Engine,
    engine_env,
    free_port,
    running_action_server,
    running_engine,
)

DEMO_REFERENCE = "KVO-2025-0014"
DEMO_CODE = "VRYX-FWPK"  # README demo table; letters only, the hardest case to spot undashed
CONTACT = "pvo-brabant-zeeland.nl"
DEADLINE_SECONDS = 3.0
# The deadline plus the time to render and send the notice on two busy cores.
ALLOWED_SECONDS = DEADLINE_SECONDS + 1.0


class HungServer:
    """Accepts connections on `port` and never answers, like a stuck action server."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(50)
        self.connections: list[socket.socket] = []
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while self.running:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.connections.append(connection)  # read nothing, answer nothing

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=5)
        for connection in self.connections:
            connection.close()
        self.sock.close()


class Stack:
    def __init__(self, engine: Engine, tracker_db: Path, logs: list[Path], actions: dict) -> None:
        self.engine = engine
        self.tracker_db = tracker_db
        self.logs = logs
        self.actions = actions

    def say(self, sender: str, text: str) -> tuple[list[dict], float]:
        started = time.monotonic()
        response = httpx.post(
            self.engine.webhook,
            json={"sender": sender, "message": text},
            headers={"X-Forwarded-For": f"10.77.{len(sender) % 250}.{hash(sender) % 250 + 1}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json(), time.monotonic() - started


@pytest.fixture(scope="module")
def stack(server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("resilience")
    port = free_port()
    token = "resilience-" + "t" * 32
    action_log, engine_log = folder / "actions.log", folder / "engine.log"
    tracker_db = folder / "tracker.db"
    wrapped = f"  wrapped:\n    type: SQL\n    dialect: sqlite\n    db: {tracker_db}\n"
    endpoints = folder / "endpoints.yml"
    placeholder = ActionServer(url=f"http://127.0.0.1:{port}", token=token, log=action_log, pid=0)
    endpoints.write_text(endpoints_yaml(placeholder, wrapped))
    actions: dict[str, AbstractContextManager] = {}

    def start_actions() -> None:
        context = running_action_server(server_env, action_log, port=port, token=token)
        context.__enter__()
        actions["running"] = context

    def stop_actions() -> None:
        context = actions.pop("running", None)
        if context is not None:
            context.__exit__(None, None, None)

    start_actions()
    env = engine_env(server_env, token, PVO_PROXIES_COUNT="1")
    actions["start"], actions["stop"] = start_actions, stop_actions  # type: ignore[assignment]
    try:
        with running_engine(env, endpoints, engine_log) as engine:
            yield Stack(engine, tracker_db, [engine_log, action_log], actions)
    finally:
        stop_actions()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def code_found_in(text: str) -> bool:
    plain = text.upper().replace("-", "").replace("‐", "").replace(" ", "")
    return DEMO_CODE.replace("-", "") in plain


def stored_events(stack: Stack) -> str:
    rows = sqlite3.connect(stack.tracker_db).execute("select data from events").fetchall()
    return "\n".join(row[0] for row in rows)


def test_status_check_with_a_code_then_a_crafted_button(stack: Stack) -> None:
    sender = "test-redaction-form"
    stack.say(sender, f"status {DEMO_REFERENCE}")
    answer, _ = stack.say(sender, DEMO_CODE.lower())
    assert "stap 3 van 5" in texts(answer)
    crafted, _ = stack.say(sender, '/choose_faq{"faq_topic": {"x": 1}}')
    assert texts(crafted)  # answered, not an error

    # The code inside a sentence, without the dash and in mixed case.
    other = "test-redaction-sentence"
    stack.say(other, "hoe staat ons traject ervoor")
    stack.say(other, DEMO_REFERENCE)
    stack.say(other, "mijn code is VryxFwpk denk ik")
    stack.say(other, f"en nog eens {DEMO_CODE} voor de zekerheid")
    stack.say(other, '/choose_faq{"faq_topic": {"x": 1}}')

    stored = stored_events(stack)
    assert "choose_faq" in stored  # the conversation was stored, redacted
    assert not code_found_in(stored), "access code in the tracker database"
    for log in stack.logs:
        assert not code_found_in(log.read_text(errors="replace")), log


def test_codes_stay_out_of_the_logs_while_the_tracker_database_is_down(stack: Stack) -> None:
    moved = stack.tracker_db.with_suffix(".away")
    stack.tracker_db.rename(moved)
    stack.tracker_db.mkdir()  # SQLite cannot open a directory: every read and write fails
    try:
        sender = "test-redaction-db-down"
        for text in (f"status {DEMO_REFERENCE}", DEMO_CODE, f"code {DEMO_CODE.lower()} graag"):
            messages, _ = stack.say(sender, text)
            assert texts(messages), "a reply even without the database"
    finally:
        stack.tracker_db.rmdir()
        moved.rename(stack.tracker_db)
    assert stack.engine.process.poll() is None, "the engine keeps running"
    for log in stack.logs:
        content = log.read_text(errors="replace")
        assert not code_found_in(content), log
    assert "Conversation not saved" in stack.logs[0].read_text(errors="replace")
    assert not code_found_in(stored_events(stack))


def assert_notice_in_time(messages: list[dict], seconds: float) -> None:
    assert seconds < ALLOWED_SECONDS, f"reply took {seconds:.1f} s"
    text = texts(messages)
    assert CONTACT in text, text
    assert "storing" in text or "medewerker" in text, text


def test_a_stopped_action_server_still_gets_a_reply_with_the_contact_route(stack: Stack) -> None:
    stack.actions["stop"]()
    sender = "test-actions-stopped"
    for text in (f"status {DEMO_REFERENCE}", DEMO_CODE, "ik wil een medewerker spreken"):
        messages, seconds = stack.say(sender, text)
        assert_notice_in_time(messages, seconds)


def test_a_hung_action_server_still_gets_a_reply_within_the_deadline(stack: Stack) -> None:
    hung = HungServer(stack_port(stack))
    try:
        sender = "test-actions-hung"
        for text in (f"status {DEMO_REFERENCE}", DEMO_CODE, "hallo?"):
            messages, seconds = stack.say(sender, text)
            assert_notice_in_time(messages, seconds)
    finally:
        hung.close()
    # Back to normal: the same conversation and a new one behave as usual again.
    stack.actions["start"]()
    time.sleep(1)
    messages, _ = stack.say(sender, "wat kost het keurmerk?")
    assert not any(m.get("notice") for m in messages), messages
    fresh = "test-actions-recovered"
    stack.say(fresh, f"status {DEMO_REFERENCE}")
    answer, _ = stack.say(fresh, DEMO_CODE)
    assert "stap 3 van 5" in texts(answer)


def stack_port(stack: Stack) -> int:
    endpoints = stack.logs[0].parent / "endpoints.yml"
    line = next(line for line in endpoints.read_text().splitlines() if "url:" in line)
    return int(line.rsplit(":", 1)[1].split("/")[0])
