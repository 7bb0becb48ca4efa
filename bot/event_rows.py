"""What the event broker keeps of a Rasa event: one small row, or nothing.

Standard library only: the broker (engine env, Python 3.10) and the staff side (app env) both
import this, so the two agree on the table without sharing an ORM.

Only what "What visitors ask" needs is kept: the conversation id, the time, the event type, the
visitor's text (user events only; the tracker store has redacted it already), the intent with its
confidence, the topic the assistant guessed, the response a bot message came from and the action
that ran. Slots, entities and metadata (client keys, addresses) are never stored.
"""

from __future__ import annotations

import math
from typing import Any

# Our own table: Rasa's stock SQL broker and the SQL tracker store both call theirs `events`.
TABLE = "visitor_events"
COLUMNS = (
    "conversation_id",
    "ts",
    "type",
    "text",
    "intent",
    "confidence",
    "guess",
    "response",
    "action",
)
KEPT_TYPES = ("user", "bot", "action")

MAX_ID_CHARS = 255
MAX_NAME_CHARS = 255
# The channels refuse longer messages; this only bounds what a misconfigured channel could pass.
MAX_TEXT_CHARS = 2000

FALLBACK_INTENT = "nlu_fallback"
RETRIEVAL_INTENT = "faq"


def _text(value: object, limit: int) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _confidence(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _retrieval_key(parse_data: dict[str, Any]) -> str | None:
    """`faq/<topic>` as the response selector chose it, if it did."""
    selector = _dict(_dict(parse_data.get("response_selector")).get(RETRIEVAL_INTENT))
    key = _dict(selector.get("response")).get("intent_response_key")
    return _text(key, MAX_NAME_CHARS)


def guessed_topic(parse_data: dict[str, Any]) -> str | None:
    """The assistant's best guess, also when the NLU fell back: the likeliest real intent,
    as `faq/<topic>` for the FAQ retrieval intent."""
    for entry in parse_data.get("intent_ranking") or [_dict(parse_data.get("intent"))]:
        name = _dict(entry).get("name")
        if not isinstance(name, str) or not name or name == FALLBACK_INTENT:
            continue
        if name == RETRIEVAL_INTENT:
            return _retrieval_key(parse_data) or name
        return name[:MAX_NAME_CHARS]
    return None


def event_row(event: dict[str, Any]) -> dict[str, Any] | None:
    """The row to store for a published event, or None for events not kept."""
    if not isinstance(event, dict):
        return None
    kind = event.get("event")
    conversation_id = _text(event.get("sender_id"), MAX_ID_CHARS)
    timestamp = _confidence(event.get("timestamp"))
    if kind not in KEPT_TYPES or conversation_id is None or timestamp is None:
        return None
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(conversation_id=conversation_id, ts=timestamp, type=kind)
    if kind == "user":
        parse_data = _dict(event.get("parse_data"))
        intent = _dict(parse_data.get("intent"))
        row["text"] = _text(event.get("text"), MAX_TEXT_CHARS)
        row["intent"] = _text(intent.get("name"), MAX_NAME_CHARS)
        row["confidence"] = _confidence(intent.get("confidence"))
        row["guess"] = guessed_topic(parse_data)
    elif kind == "bot":
        row["response"] = _text(_dict(event.get("metadata")).get("utter_action"), MAX_NAME_CHARS)
    else:
        row["action"] = _text(event.get("name"), MAX_NAME_CHARS)
    return row
