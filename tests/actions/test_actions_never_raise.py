"""Every registered action answers any tracker the engine could send, and never raises.

The actions are found the way the action server finds them (``ActionExecutor.register_package``),
so a new action is covered without touching this file. Each runs through the executor's real
path (``Tracker.from_dict``, the form machinery, event validation) on trackers from
tracker_strategies.py; the status check runs against a real SQLite demo database.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from rasa_sdk.executor import ActionExecutor

from actions.server import ACTIONS_PACKAGE
from tests.actions.action_calls import registered_actions, run_action
from tests.actions.tracker_strategies import trackers

# Validation actions fill slots; every other action must say something.
SILENT_ALLOWED_PREFIXES = ("validate_", "action_validate_")


@pytest.fixture(scope="module")
def executor() -> ActionExecutor:
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    return executor


@pytest.fixture
def demo_sqlite(sqlite_demo_template: Path, tmp_path: Path, use_env: Callable[..., None]) -> str:
    """A copy of the migrated SQLite demo database, used by the actions through DATABASE_URL."""
    target = tmp_path / "kvo.sqlite3"
    shutil.copy(sqlite_demo_template, target)
    url = f"sqlite:///{target}"
    use_env(DATABASE_URL=url)
    return url


def test_the_actions_are_discovered() -> None:
    # The same list the server registers; the domain test in test_actions_check_status.py
    # checks it against domain.yml.
    assert "action_check_status" in registered_actions()
    assert "validate_status_form" in registered_actions()


@pytest.mark.parametrize("name", registered_actions())
def test_every_action_answers_any_tracker(
    name: str, executor: ActionExecutor, domain: dict[str, Any], demo_sqlite: str
) -> None:
    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(tracker=trackers(domain))
    def check(tracker: dict[str, Any]) -> None:
        answer = run_action(executor, name, tracker, domain)
        assert isinstance(answer["events"], list)
        assert all(isinstance(event, dict) and event.get("event") for event in answer["events"])
        assert isinstance(answer["responses"], list)
        if not name.startswith(SILENT_ALLOWED_PREFIXES):
            assert answer["responses"], f"{name} gave no reply"
        for message in answer["responses"]:
            assert message.get("text") or message.get("response")

    check()
