"""No log line of ours holds user text, slot values or the tracker.

Every registered action runs on trackers that carry a marker string in the message text, the
slots, the entities, the metadata and the sender id, while every log record (all loggers, all
levels) is captured. The status check also runs into an unreachable and a broken database, the
paths that log. The error answers of the running server are covered in test_actions_server.py.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from rasa_sdk.executor import ActionExecutor

from actions.server import ACTIONS_PACKAGE
from tests.actions.action_calls import registered_actions, rendered, run_action
from tests.actions.tracker_strategies import trackers

MARKER = "ZEBRA-MARKER-4711"
DEMO_CODE = "WVZ4-LWUX"
_FORMATTER = logging.Formatter("%(name)s %(levelname)s %(message)s")


def _leaks(records: list[logging.LogRecord]) -> list[str]:
    found = []
    for record in records:
        line = _FORMATTER.format(record)  # includes a traceback, if any
        if any(
            secret in line.upper() for secret in (MARKER, DEMO_CODE, DEMO_CODE.replace("-", ""))
        ):
            found.append(line[:300])
    return found


@pytest.fixture
def executor() -> ActionExecutor:
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    return executor


@pytest.fixture
def demo_sqlite(sqlite_demo_template: Path, tmp_path: Path, use_env: Callable[..., None]) -> str:
    target = tmp_path / "kvo.sqlite3"
    shutil.copy(sqlite_demo_template, target)
    use_env(DATABASE_URL=f"sqlite:///{target}")
    return str(target)


@pytest.mark.parametrize("name", registered_actions())
def test_no_log_record_repeats_what_the_visitor_sent(
    name: str,
    executor: ActionExecutor,
    domain: dict[str, Any],
    demo_sqlite: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(tracker=trackers(domain, marker=MARKER))
    def check(tracker: dict[str, Any]) -> None:
        tracker["sender_id"] = f"{MARKER}-{tracker['sender_id']}"
        run_action(executor, name, tracker, domain)

    check()
    assert _leaks(caplog.records) == []


def _status_tracker() -> dict[str, Any]:
    text = f"mijn code is {DEMO_CODE} {MARKER}"
    message = {
        "text": text,
        "intent": {"name": "inform", "confidence": 0.9},
        "entities": [{"entity": "reference", "value": MARKER}],
        "metadata": {"client_key": MARKER, "note": MARKER},
    }
    return {
        "sender_id": f"conversation-{MARKER}",
        "slots": {
            "reference_code": f"KVO-2024-0031 {MARKER}",
            "access_code": DEMO_CODE,
            "requested_slot": None,
        },
        "latest_message": message,
        "events": [{"event": "user", "text": text, "parse_data": message}],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }


@pytest.fixture(params=["unreachable", "corrupt-file", "no-tables"])
def failing_database(
    request: pytest.FixtureRequest, tmp_path: Path, use_env: Callable[..., None]
) -> str:
    if request.param == "unreachable":
        url = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    elif request.param == "corrupt-file":
        path = tmp_path / "corrupt.sqlite3"
        path.write_bytes(f"not a database {MARKER}\n".encode() * 200)
        url = f"sqlite:///{path}"
    else:
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    use_env(DATABASE_URL=url, DB_TIMEOUT_SECONDS="2")
    return url


def test_a_failing_status_lookup_logs_no_input(
    failing_database: str,
    executor: ActionExecutor,
    domain: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = run_action(executor, "action_check_status", _status_tracker(), domain)
    assert rendered(answer["responses"][0])["text"].startswith("Het lukt mij nu niet")
    logged = [record for record in caplog.records if record.name.startswith("actions")]
    assert logged, "the failure is logged"
    assert _leaks(caplog.records) == []
