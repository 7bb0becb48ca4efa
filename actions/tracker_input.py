"""Reading the tracker without trusting its contents.

Slots and entities can hold any JSON value (a button payload such as
``/choose_faq{"faq_topic": {"x": 1}}`` sets one), parse fields can be missing or ``None``, and the
channel's metadata is whatever the client sent. rasa-sdk's own helpers (``get_slot``,
``get_latest_entity_values``, ``get_intent_of_latest_message``) assume well-formed dicts and
raise otherwise, so the actions read through these functions, which never raise and return only
the types they promise.
"""

from __future__ import annotations

import math
from typing import Any

from rasa_sdk import Tracker

from kvo.lockout import normalize_client_key

# Longer text is no answer to any question the assistant asks; cutting it bounds the work.
MAX_TEXT_CHARS = 10_000


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_text(value: object, limit: int = MAX_TEXT_CHARS) -> str:
    """A string value (cut to ``limit``), else ""; other types are never stringified."""
    return value[:limit] if isinstance(value, str) else ""


def as_probability(value: object) -> float:
    """A confidence as Rasa gives it, clamped to 0..1; anything else (NaN, "0.9", a list) is 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return 0.0
    return min(max(number, 0.0), 1.0) if math.isfinite(number) else 0.0


def latest_message(tracker: Tracker) -> dict[str, Any]:
    return as_dict(getattr(tracker, "latest_message", None))


def latest_text(tracker: Tracker) -> str:
    return as_text(latest_message(tracker).get("text"))


def latest_intent(tracker: Tracker) -> str | None:
    """The top intent of the latest message (the fallback intent included), or None."""
    message = latest_message(tracker)
    ranking = as_list(message.get("intent_ranking"))
    first = as_dict(ranking[0]) if ranking else as_dict(message.get("intent"))
    name = first.get("name")
    return name if isinstance(name, str) else None


def entity_values(tracker: Tracker, entity: str) -> list[Any]:
    """Values (of any JSON type) of the latest message's entities of this type, no role/group."""
    values = []
    for item in as_list(latest_message(tracker).get("entities")):
        found = as_dict(item)
        if (
            found.get("entity") == entity
            and found.get("role") is None
            and found.get("group") is None
        ):
            values.append(found.get("value"))
    return values


def slot(tracker: Tracker, name: str) -> Any:
    return as_dict(getattr(tracker, "slots", None)).get(name)


def slot_text(tracker: Tracker, name: str) -> str:
    """A text slot's value; "" when it is unset or not a string."""
    return as_text(slot(tracker, name))


def sender_id(tracker: Tracker) -> str:
    return as_text(getattr(tracker, "sender_id", None), limit=1000)


def client_key(tracker: Tracker) -> str | None:
    """The channel's key for the visitor's address, from the latest user message's metadata.

    None when it is missing or not in the form our channels send (unknown client).
    """
    metadata = latest_message(tracker).get("metadata")
    if metadata is None:
        for event in reversed(as_list(getattr(tracker, "events", None))):
            event = as_dict(event)
            if event.get("event") == "user":
                metadata = event.get("metadata")
                break
    return normalize_client_key(as_dict(metadata).get("client_key"))
