"""Running registered actions the way the action server does (shared by several test modules)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from rasa_sdk.executor import ActionExecutor

from actions.server import ACTIONS_PACKAGE


def registered_actions() -> list[str]:
    """The names the server registers (so new actions are covered without touching tests)."""
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    return sorted(executor.actions)


def run_action(
    executor: ActionExecutor, name: str, tracker: dict[str, Any], domain: dict[str, Any]
) -> dict[str, Any]:
    """Run an action through the executor's real path; the JSON answer the server would send."""
    call = {"next_action": name, "tracker": tracker, "domain": domain, "version": "3.6.21"}
    result = asyncio.run(executor.run(call))
    assert result is not None
    # What the server sends must be plain JSON (no NaN, no objects).
    return json.loads(json.dumps(result.model_dump(), allow_nan=False))
