"""Hypothesis strategies for trackers as the engine sends them, filled with hostile content.

The frame is Rasa's: a dict with ``sender_id``, a ``slots`` dict, an ``events`` list of dicts
that each have an ``event`` type, an ``active_loop`` dict. The engine builds that frame and
nobody else reaches the action server. Everything a visitor or a client can influence is
arbitrary: slot values and entity values of any JSON type (button payloads set them), message
text, parse fields that are missing, ``None`` or of the wrong type, intent rankings and response
selector output, and the channel metadata.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from actions.faq_topics import FAQ_TOPICS

VALID_CLIENT_KEY = "0123456789abcdef0123456789abcdef"
_INTERESTING_TEXT = [
    "",
    " ",
    "stop",
    "KVO-2024-0031",
    "kvo 2024 31",
    "KVO-2000-1234",
    "WVZ4-LWUX",
    "wvz4lwux",
    "ABCD-EFGH",
    "\x00",
    "ＫＶＯ－２０２４－００３１",
    "' OR '1'='1",
    "<script>alert(1)</script>",
    "faq/stappen",
    "🙂" * 10,
]


def json_values(leaves: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[Any]:
    """Any JSON value (NaN and infinities too: Rasa's payload parser accepts them)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**300, max_value=10**400),  # too large for a float
        st.floats(),
        st.text(max_size=30),
        st.sampled_from(_INTERESTING_TEXT),
        *([leaves] if leaves is not None else []),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=12), children, max_size=4),
        ),
        max_leaves=10,
    )


def _or_anything(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The expected shape most of the time, but also None or any other JSON value."""
    return st.one_of(strategy, st.none(), json_values())


def texts(marker: str | None = None) -> st.SearchStrategy[str]:
    extra = (
        [st.just(marker), st.text(max_size=20).map(lambda t: f"{t} {marker} {t}")] if marker else []
    )
    return st.one_of(st.text(max_size=200), st.sampled_from(_INTERESTING_TEXT), *extra)


def trackers(
    domain: dict[str, Any], marker: str | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Tracker states; with ``marker``, that string turns up in texts, slots, entities, metadata."""
    leaves = st.just(marker) if marker else None
    anything = json_values(leaves)
    text = texts(marker)
    intent_names = st.one_of(
        st.sampled_from([*_names(domain.get("intents")), "nlu_fallback"]), st.text(max_size=15)
    )
    entity_names = st.one_of(st.sampled_from(_names(domain.get("entities"))), st.text(max_size=10))
    slot_names = st.one_of(
        st.sampled_from([*_names(domain.get("slots")), "requested_slot"]), st.text(max_size=10)
    )
    probability = st.one_of(st.floats(min_value=0, max_value=1), anything)

    intent = st.fixed_dictionaries(
        {}, optional={"name": _or_anything(intent_names), "confidence": probability}
    )
    entity = st.fixed_dictionaries(
        {"entity": _or_anything(entity_names)},
        optional={
            "value": anything,
            "role": st.one_of(st.none(), anything),
            "group": st.one_of(st.none(), anything),
            "start": anything,
            "end": anything,
        },
    )
    faq_key = st.one_of(
        st.sampled_from([f"faq/{topic}" for topic in FAQ_TOPICS]), st.text(max_size=20)
    )
    selection = st.fixed_dictionaries(
        {}, optional={"intent_response_key": _or_anything(faq_key), "confidence": probability}
    )
    response_selector = st.fixed_dictionaries(
        {},
        optional={
            "faq": _or_anything(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "response": _or_anything(selection),
                        "ranking": _or_anything(st.lists(_or_anything(selection), max_size=4)),
                    },
                )
            )
        },
    )
    metadata = _or_anything(
        st.fixed_dictionaries(
            {},
            optional={
                "client_key": _or_anything(
                    st.one_of(st.just(VALID_CLIENT_KEY), st.text(max_size=40), text)
                ),
                "note": anything,
            },
        )
    )
    parse_data = st.fixed_dictionaries(
        {},
        optional={
            "text": _or_anything(text),
            "intent": _or_anything(intent),
            "intent_ranking": _or_anything(st.lists(_or_anything(intent), max_size=4)),
            "entities": _or_anything(st.lists(_or_anything(entity), max_size=4)),
            "response_selector": _or_anything(response_selector),
            "metadata": metadata,
            "message_id": _or_anything(st.text(max_size=10)),
        },
    )
    action_names = st.one_of(
        st.sampled_from([*_names(domain.get("actions")), "action_listen", "status_form"]),
        st.text(max_size=15),
    )
    events = st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {"event": st.just("user")},
                optional={
                    "text": _or_anything(text),
                    "parse_data": _or_anything(parse_data),
                    "metadata": metadata,
                    "input_channel": _or_anything(st.just("rest")),
                },
            ),
            st.fixed_dictionaries(
                {"event": st.just("slot"), "name": slot_names, "value": anything}
            ),
            st.fixed_dictionaries(
                {"event": st.just("action")}, optional={"name": _or_anything(action_names)}
            ),
            st.fixed_dictionaries({"event": st.just("bot")}, optional={"text": _or_anything(text)}),
            st.fixed_dictionaries(
                {"event": st.just("active_loop")},
                optional={"name": _or_anything(st.just("status_form"))},
            ),
            st.sampled_from(["session_started", "restart", "rewind", "undo", "followup"]).map(
                lambda kind: {"event": kind}
            ),
        ),
        max_size=8,
    )
    slots = st.dictionaries(slot_names, anything, max_size=5).flatmap(
        lambda values: st.fixed_dictionaries(
            {
                "requested_slot": st.one_of(
                    st.sampled_from([None, "reference_code", "access_code"]), anything
                )
            }
        ).map(lambda requested: {**values, **requested})
    )
    return st.fixed_dictionaries(
        {
            "sender_id": st.one_of(st.text(max_size=40), st.sampled_from(["", "\x00", "x" * 128])),
            "slots": slots,
            "latest_message": _or_anything(parse_data),
            "events": events,
            "paused": st.booleans(),
            "followup_action": st.one_of(st.none(), action_names),
            "active_loop": st.one_of(
                st.just({}),
                st.fixed_dictionaries({}, optional={"name": _or_anything(st.just("status_form"))}),
            ),
            "latest_action_name": st.one_of(st.none(), action_names),
        }
    )


def _names(section: object) -> list[str]:
    """Names from a domain section (a list of names or of one-key dicts, or a dict)."""
    if isinstance(section, dict):
        return [str(name) for name in section]
    names = []
    for item in section or []:
        names.extend(item if isinstance(item, dict) else [item])
    return [str(name) for name in names] or ["none"]
