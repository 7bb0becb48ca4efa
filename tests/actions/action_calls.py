"""Running registered actions the way the action server does (shared by several test modules)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import yaml
from rasa_sdk.executor import ActionExecutor

from actions.server import ACTIONS_PACKAGE
from kvo.settings import REPO_ROOT


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


def _load_yaml(relative: str) -> dict[str, Any]:
    with open(REPO_ROOT / relative, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def load_domain() -> dict[str, Any]:
    """The real domain.yml as a dict, as Rasa sends it with an action call (responses included)."""
    return _load_yaml("domain.yml")


def _responses() -> dict[str, Any]:
    responses = dict(load_domain().get("responses") or {})
    responses.update(_load_yaml("data/responses/faq.yml").get("responses") or {})
    return responses


def rendered(message: dict[str, Any]) -> dict[str, Any]:
    """A dispatched message as the visitor gets it: a named response filled like Rasa fills it.

    Rasa fills {variables} from the values the action passes along; the response's own buttons
    come first, then those the action adds.
    """
    name = message.get("response")
    if not name:
        return message
    variants = _responses().get(name)
    assert variants, f"no response {name} in the domain"
    variables = {k: v for k, v in message.items() if k not in ("response", "text", "buttons")}
    text = str(variants[0].get("text") or "").format_map(variables)
    buttons = [
        {**b, "payload": str(b.get("payload", "")).replace("{{", "{").replace("}}", "}")}
        for b in variants[0].get("buttons") or []
    ]
    return {**message, "text": text, "buttons": buttons + list(message.get("buttons") or [])}
