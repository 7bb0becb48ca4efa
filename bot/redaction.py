"""What may not be stored: access codes, contact details and the answers to sensitive questions.

Works on serialised events (the dicts Rasa stores), so the same rules serve the tracker store and
the log filter. Standard library only (and, where installed, the word lists of spacy-lookups-data).

Rules:
- any access code (`XXXX-XXXX`, any case, with or without the dash) anywhere in any string;
- the text, `parse_data` text and entity values of a user message sent while the bot was asking
  for a sensitive slot (`requested_slot` in the list);
- in any user message: e-mail addresses, phone numbers (10 to 13 digits, starting with 0 or +)
  and a name the visitor introduces ("ik ben Jan de Vries", "mijn naam is ...", "groet, Jan"):
  visitors volunteer them before any question asks, and what the bot understood is already in
  the event's intent;
- the value of a sensitive slot in a slot event;
- of a bot message, the values an action filled into its response (Rasa keeps them in the event's
  metadata: a summary of the visitor's answers, say), and the whole text of a response the domain
  marks `metadata: {sensitive: true}` (one that repeats the visitor's personal details).

Without a dash, an 8-character word is only taken for a code when it does not read like a word:
it holds a digit, or fewer than three of the vowels a/e/u and it is no Dutch word. Codes never
contain I or O, so words such as "keurmerk", "afspraak", "partners" or "verwacht" stay readable
while codes like "vryxfwpk" are removed. The words come from spacy-lookups-data, which the
engine has installed (the Dutch spaCy pipeline is built from it).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any

MARKER = "[verwijderd]"
REQUESTED_SLOT = "requested_slot"
# The code alphabet (kvo/access_codes.py): no 0/O, no 1/I. Case-insensitive.
_CODE_CHAR = "[A-HJ-NP-Za-hj-np-z2-9]"
# An underscore joins words into an identifier ("action_callback_start"), so it is no boundary.
_DASHED = re.compile(
    rf"(?<![A-Za-z0-9_]){_CODE_CHAR}{{4}}\s*[-‐‑‒–—−]\s*{_CODE_CHAR}{{4}}(?![A-Za-z0-9_])"
)
_PLAIN = re.compile(rf"(?<![A-Za-z0-9_]){_CODE_CHAR}{{8}}(?![A-Za-z0-9_])")
_WORD_VOWELS = frozenset("aeu")


@functools.cache
def words_like_codes() -> frozenset[str]:
    """Words of six to eight letters of the code alphabet ("partner", "verwacht").

    From spacy-lookups-data's Dutch lemma table and its Dutch and English word lists; empty where
    that package is not installed (then only the vowel rule applies).
    """
    candidate = re.compile(r"[a-hj-np-z]{6,8}")
    words: set[str] = set()
    try:
        data = resources.files("spacy_lookups_data") / "data"
        lookup = json.loads(gzip.decompress((data / "nl_lemma_lookup.json.gz").read_bytes()))
        words.update(word for pair in lookup.items() for word in pair)
        for index in ("nl_lemma_index.json.gz", "en_lemma_index.json.gz"):
            lemmas = json.loads(gzip.decompress((data / index).read_bytes()))
            words.update(word for group in lemmas.values() for word in group)
    except (ModuleNotFoundError, OSError, ValueError):
        return frozenset()
    return frozenset(word for word in words if candidate.fullmatch(word))


def _is_word(lowered: str) -> bool:
    """A known word, or one with a plural or verb ending ("partners", "lunchten")."""
    known = words_like_codes()
    return any(form in known for form in (lowered, lowered[:-1], lowered[:-2]))


def _plain_looks_like_code(token: str) -> bool:
    lowered = token.lower()
    if any(ch.isdigit() for ch in lowered):
        return True
    return sum(ch in _WORD_VOWELS for ch in lowered) < 3 and not _is_word(lowered)


def redact_codes(text: str) -> str:
    """`text` with every access code replaced by the marker."""
    if not text:
        return text
    text = _DASHED.sub(MARKER, text)
    return _PLAIN.sub(lambda m: MARKER if _plain_looks_like_code(m[0]) else m[0], text)


def contains_code(text: str) -> bool:
    return redact_codes(text) != text


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Digits with the separators people type; the count of digits decides (see _is_phone).
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d \-.()/]{7,20}\d(?!\w)")
# A name only where the visitor introduces one: the phrase, then capitalised words, with the
# lower-case particles of Dutch surnames between them. A heuristic: names typed without such a
# phrase are only removed when they answer the name question.
_CAPITALISED = r"[A-ZÀ-ÖØ-Þ][\w'’-]*"
_PARTICLE = r"(?:van|de|der|den|het|in|op|te|ten|ter|la|le|du|'t)"
_INTRODUCED_NAME = re.compile(
    r"(?i:\b(?:mijn naam is|ik heet|ik ben|u spreekt met|je spreekt met|groet|groeten)\b)"
    rf"[,:]?\s+({_CAPITALISED}(?:\s+(?:{_PARTICLE}\s+)*{_CAPITALISED}){{0,3}})"
)


def _is_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    return 10 <= digits <= 13 and candidate[0] in "0+"


def redact_contact_details(text: str) -> str:
    """`text` with e-mail addresses, phone numbers and introduced names replaced by the marker."""
    if not text:
        return text
    text = _EMAIL.sub(MARKER, text)
    text = _PHONE.sub(lambda m: MARKER if _is_phone(m[0]) else m[0], text)
    return _INTRODUCED_NAME.sub(lambda m: m[0][: m.start(1) - m.start(0)] + MARKER, text)


# Keys whose values name things of the domain (event kinds, actions, slots, intents, entities,
# policies): they are never visitor text, and the engine must find them back unchanged.
_NAME_KEYS = frozenset({"event", "name", "policy", "entity", "action_name", "intent_name"})
# Keys of a message's parse data that hold only what the model made of it (intent names with
# confidences; the response selector's ranking and the domain's answer texts): no visitor text,
# and about half of all the strings in a turn's events.
_MODEL_OUTPUT_KEYS = frozenset({"intent_ranking", "response_selector"})
# A code has at least eight characters.
_SHORTEST_CODE = 8


def _scrub(value: Any, kept: frozenset[str] = frozenset()) -> Any:
    """Codes removed from every string inside a JSON-like value, names of the domain left alone;
    the values of `kept` keys at the top level of `value` are left alone too."""
    if isinstance(value, str):
        return redact_codes(value) if len(value) >= _SHORTEST_CODE else value
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {
            key: item
            if key in kept or (key in _NAME_KEYS and isinstance(item, str))
            else _scrub(item)
            for key, item in value.items()
        }
    return value


def _scrub_event(event: dict[str, Any]) -> dict[str, Any]:
    """`_scrub` of a serialised event, but the model's output in a user message's parse data is
    kept as it is (only there: elsewhere the client may choose key names, in metadata say)."""
    parse_data = event.get("parse_data")
    if event.get("event") != "user" or not isinstance(parse_data, dict):
        return _scrub(event)
    rest = _scrub({key: value for key, value in event.items() if key != "parse_data"})
    return {**rest, "parse_data": _scrub(parse_data, _MODEL_OUTPUT_KEYS)}


def _rewritten(item: dict[str, Any], key: str, rewrite: Any) -> dict[str, Any]:
    """`item` with `rewrite` applied to `item[key]`; the key is written only when that changes it."""
    old = item.get(key)
    new = rewrite(old)
    return {**item, key: new} if new != old else item


def _rewrite_user_event(event: dict[str, Any], rewrite: Any) -> dict[str, Any]:
    """A user message with `rewrite` applied to its text, `parse_data` text and entity values."""
    event = dict(_rewritten(event, "text", rewrite))  # copies: the input is not changed
    parse_data = event.get("parse_data")
    if isinstance(parse_data, dict):
        parse_data = dict(_rewritten(parse_data, "text", rewrite))
        entities = parse_data.get("entities")
        if isinstance(entities, list):
            parse_data["entities"] = [
                _rewritten(entity, "value", rewrite)
                if isinstance(entity, dict)
                else rewrite(entity)
                for entity in entities
            ]
        event["parse_data"] = parse_data
    return event


def _blank(_: Any) -> str:
    return MARKER


def _mask_contact_details(value: Any) -> Any:
    return redact_contact_details(value) if isinstance(value, str) else value


# Of a bot message's metadata only the response's name is kept (the event broker reads it).
_BOT_METADATA_KEPT = frozenset({"utter_action", "response", "template_name"})


def _redact_bot_event(event: dict[str, Any]) -> dict[str, Any]:
    metadata = event.get("metadata")
    if not isinstance(metadata, dict):
        return event
    template = metadata.get("metadata")
    sensitive = isinstance(template, dict) and template.get("sensitive") is True
    kept = {key: value for key, value in metadata.items() if key in _BOT_METADATA_KEPT}
    if sensitive:
        return {**event, "text": MARKER, "metadata": {**kept, "metadata": {"sensitive": True}}}
    return {**event, "metadata": kept}


def redact_events(
    events: Iterable[dict[str, Any]], sensitive_slots: frozenset[str], requested: Any = None
) -> list[dict[str, Any]]:
    """Serialised events with sensitive content replaced by the marker (inputs are not changed).

    `requested` is the question open before the first of `events` (the value of requested_slot),
    for redacting only the events added since the last save.
    """
    redacted: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            requested = None
        if kind == "user" and isinstance(requested, str) and requested in sensitive_slots:
            event = _rewrite_user_event(event, _blank)
        elif kind == "user":
            event = _rewrite_user_event(event, _mask_contact_details)
        elif kind == "bot":
            event = _redact_bot_event(event)
        elif kind == "slot":
            name = event.get("name")
            if name == REQUESTED_SLOT:
                requested = event.get("value")
            elif name in sensitive_slots and event.get("value") is not None:
                event = {**event, "value": MARKER}
        redacted.append(_scrub_event(event))
    return redacted
