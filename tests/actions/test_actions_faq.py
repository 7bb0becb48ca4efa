"""FAQ actions: ranking of likely topics, clarification buttons, chosen topics, English input."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.buttons import buttons as titled_buttons
from actions.faq import (
    DEFAULT_SUGGESTIONS,
    ActionAnswerChosenFaq,
    ActionClarify,
    ActionCoreFallback,
    ActionEnglish,
    clarification_buttons,
    english_topic,
    previous_turn_was_unclear,
    ranked_suggestions,
)
from actions.faq_more import ActionExplainMore, last_topic_and_followups
from actions.faq_topics import FAQ_TOPICS, OFFERABLE_INTENTS, faq_payload, title_response
from kvo.settings import REPO_ROOT
from tests.actions.action_calls import load_domain

SOMETHING_ELSE = {"title": "Iets anders", "payload": "/something_else"}
HANDOFF = {"title": "Een medewerker spreken", "payload": "/human_handoff"}


def _merged_domain() -> dict[str, Any]:
    """domain.yml with the FAQ answers merged in, as the engine sends it with an action call."""
    domain = load_domain()
    with open(REPO_ROOT / "data" / "responses" / "faq.yml", encoding="utf-8") as handle:
        domain["responses"] = {**domain["responses"], **yaml.safe_load(handle)["responses"]}
    return domain


DOMAIN = _merged_domain()
# Rasa's RegexInterpreter: "/intent" optionally followed by a JSON object of entities.
PAYLOAD = re.compile(r"^/(?P<intent>[^{@]+)(?P<entities>\{.*\})?$")


def response_selector(ranking: list[tuple[str, float]]) -> dict[str, Any]:
    """``response_selector`` as Rasa 3.6's ResponseSelector fills it for the retrieval intent faq."""
    best_topic, best_confidence = ranking[0] if ranking else ("wat_is_kvo", 0.0)
    return {
        "all_retrieval_intents": ["faq"],
        "faq": {
            "response": {
                "id": -2185624113127640000,
                "responses": [{"text": "…"}],
                "response_templates": [{"text": "…"}],
                "confidence": best_confidence,
                "intent_response_key": f"faq/{best_topic}",
                "utter_action": f"utter_faq/{best_topic}",
                "template_name": f"utter_faq/{best_topic}",
            },
            "ranking": [
                {
                    "id": -1000 - index,
                    "confidence": confidence,
                    "intent_response_key": f"faq/{topic}",
                }
                for index, (topic, confidence) in enumerate(ranking)
            ],
        },
    }


def parse_data(
    text: str, intents: list[tuple[str, float]], faq: list[tuple[str, float]] | None = None
) -> dict[str, Any]:
    """A parsed message as Rasa 3.6 returns it (``/model/parse``, ``tracker.latest_message``)."""
    ranking = [{"id": 100 + i, "name": n, "confidence": c} for i, (n, c) in enumerate(intents)]
    return {
        "text": text,
        "intent": ranking[0] if ranking else {"name": None, "confidence": 0.0},
        "entities": [],
        "text_tokens": [],
        "intent_ranking": ranking,
        "response_selector": response_selector(faq or []),
    }


def parse_payload(payload: str) -> tuple[str, dict[str, Any]]:
    match = PAYLOAD.match(payload)
    assert match, payload
    return match["intent"], json.loads(match["entities"] or "{}")


def run_action(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def run_action_with_domain(
    action: Action, tracker: Tracker, domain: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain))
    return dispatcher.messages, events


def tracker_with_parse(data: dict[str, Any], tracker_for: Callable[..., Tracker]) -> Tracker:
    return tracker_for(
        data["text"],
        intent_ranking=data["intent_ranking"],
        response_selector=data["response_selector"],
    )


COSTS_QUESTION = parse_data(
    "wat kost dat eigenlijk en hoe lang duurt t",
    [("faq", 0.6), ("check_status", 0.25), ("greet", 0.1), ("book_intake", 0.05)],
    [("kosten_subsidie", 0.7), ("doorlooptijd", 0.2), ("stappen", 0.1)],
)


# --- ranked_suggestions ---------------------------------------------------------------------


def test_faq_topics_are_weighted_by_the_faq_intent() -> None:
    ranked = ranked_suggestions(COSTS_QUESTION)
    assert [key for key, _ in ranked] == [
        "kosten_subsidie",
        "check_status",
        "doorlooptijd",
        "stappen",
        "book_intake",
    ]
    scores = dict(ranked)
    assert scores["kosten_subsidie"] == pytest.approx(0.6 * 0.7)
    assert scores["doorlooptijd"] == pytest.approx(0.6 * 0.2)
    assert scores["stappen"] == pytest.approx(0.6 * 0.1)
    assert scores["check_status"] == pytest.approx(0.25)


def test_an_intent_can_beat_a_faq_topic() -> None:
    data = parse_data(
        "hoe staat het met ons traject",
        [("check_status", 0.55), ("faq", 0.4), ("human_handoff", 0.05)],
        [("stappen", 0.9), ("doorlooptijd", 0.1)],
    )
    ranked = ranked_suggestions(data)
    assert [key for key, _ in ranked] == ["check_status", "stappen", "human_handoff"]
    assert dict(ranked)["stappen"] == pytest.approx(0.36)


@pytest.mark.parametrize(
    "intent",
    ["greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "out_of_scope", "stop",
     "english", "inform", "nlu_fallback", "faq_menu", "something_else", "choose_faq"],
)  # fmt: skip
def test_non_offerable_intents_are_never_suggested(intent: str) -> None:
    data = parse_data("hallo", [(intent, 0.9), ("faq", 0.1)], [("wat_is_kvo", 1.0)])
    assert [key for key, _ in ranked_suggestions(data)] == ["wat_is_kvo"]


@pytest.mark.parametrize("intent", sorted(OFFERABLE_INTENTS))
def test_offerable_intents_are_suggested(intent: str) -> None:
    data = parse_data("iets", [(intent, 0.7), ("faq", 0.3)], [("privacy", 0.5)])
    assert ranked_suggestions(data)[0] == (intent, pytest.approx(0.7))


def test_unknown_topics_and_unlikely_keys_are_dropped() -> None:
    data = parse_data(
        "iets over sterren",
        [("faq", 0.9), ("book_intake", 0.04)],
        [("sterren", 0.5), ("bestaat_niet", 0.45), ("privacy", 0.05)],
    )
    # privacy: 0.9 * 0.05 = 0.045 < 0.05; book_intake 0.04 < 0.05; bestaat_niet is unknown.
    assert [key for key, _ in ranked_suggestions(data)] == ["sterren"]


def test_without_ranking_nothing_is_suggested() -> None:
    assert ranked_suggestions({}) == []
    assert ranked_suggestions({"text": "x", "intent_ranking": []}) == []
    only_intents = {"intent_ranking": [{"name": "faq", "confidence": 1.0}]}
    assert ranked_suggestions(only_intents) == []


# --- clarification_buttons ----------------------------------------------------------------------


def test_at_most_three_suggestions_plus_something_else() -> None:
    buttons = clarification_buttons(DOMAIN, COSTS_QUESTION)
    assert buttons == [
        {"title": "Kosten en subsidie", "payload": '/choose_faq{"faq_topic": "kosten_subsidie"}'},
        {"title": "Status van ons traject", "payload": "/check_status"},
        {"title": "Hoe lang duurt het?", "payload": '/choose_faq{"faq_topic": "doorlooptijd"}'},
        SOMETHING_ELSE,
    ]


def test_payloads_parse_like_rasa_parses_them() -> None:
    intents, topics = [], []
    for button in clarification_buttons(DOMAIN, COSTS_QUESTION)[:-1]:
        intent, entities = parse_payload(button["payload"])
        intents.append(intent)
        topics.append(entities.get("faq_topic"))
    assert intents == ["choose_faq", "check_status", "choose_faq"]
    assert topics == ["kosten_subsidie", None, "doorlooptijd"]


@pytest.mark.parametrize("topic", sorted(FAQ_TOPICS))
def test_every_topic_payload_round_trips(topic: str) -> None:
    assert faq_payload(topic) == f'/choose_faq{{"faq_topic": "{topic}"}}'
    assert parse_payload(faq_payload(topic)) == ("choose_faq", {"faq_topic": topic})


@pytest.mark.parametrize(
    "data",
    [
        {},
        parse_data("asdfgh", [("out_of_scope", 0.8), ("greet", 0.2)]),
        parse_data("hmm", [("faq", 0.04), ("nlu_fallback", 0.96)], [("sterren", 0.9)]),
        parse_data("?", [("faq", 0.2), ("thank", 0.8)], [("a", 0.1), ("b", 0.1)]),
    ],
)
def test_popular_topics_when_nothing_is_likely(data: dict[str, Any]) -> None:
    buttons = clarification_buttons(DOMAIN, data)
    assert [parse_payload(b["payload"]) for b in buttons[:-1]] == [
        ("choose_faq", {"faq_topic": DEFAULT_SUGGESTIONS[0]}),
        ("choose_faq", {"faq_topic": DEFAULT_SUGGESTIONS[1]}),
    ]
    assert [b["title"] for b in buttons] == [
        "Wat is het KVO?",
        "De stappen naar het keurmerk",
        "Iets anders",
    ]


def test_one_likely_topic_is_completed_with_a_popular_one() -> None:
    data = parse_data("korting verzekering?", [("faq", 0.9)], [("verzekering_korting", 0.9)])
    assert [b["title"] for b in clarification_buttons(DOMAIN, data)] == [
        "Korting op verzekeringen",
        "Wat is het KVO?",
        "Iets anders",
    ]


def test_a_popular_topic_is_not_offered_twice() -> None:
    data = parse_data("wat is kvo", [("faq", 0.9)], [("wat_is_kvo", 0.95)])
    keys = [
        parse_payload(b["payload"])[1].get("faq_topic") for b in clarification_buttons(DOMAIN, data)
    ]
    assert keys == ["wat_is_kvo", "stappen", None]


@pytest.mark.parametrize("key", [*FAQ_TOPICS, *OFFERABLE_INTENTS])
def test_every_offerable_topic_has_a_short_title_in_the_domain(key: str) -> None:
    title = DOMAIN["responses"][title_response(key)][0]["text"]
    assert 0 < len(title) <= 40, title


def test_a_missing_title_costs_its_button_not_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    domain = {"responses": {**DOMAIN["responses"]}}
    del domain["responses"][title_response("kosten_subsidie")]
    titles = [b["title"] for b in clarification_buttons(domain, COSTS_QUESTION)]
    assert titles == ["Status van ons traject", "Hoe lang duurt het?", "Iets anders"]
    assert "utter_button_faq_kosten_subsidie is missing" in caplog.text
    assert titled_buttons(domain, ("utter_button_faq_kosten_subsidie", "/x")) == []


def test_an_edited_title_reaches_the_button() -> None:
    domain = {
        "responses": {**DOMAIN["responses"], "utter_button_something_else": [{"text": "Anders"}]}
    }
    assert clarification_buttons(domain, {})[-1] == {
        "title": "Anders",
        "payload": "/something_else",
    }


# --- ActionAnswerChosenFaq ------------------------------------------------------------------


@pytest.mark.parametrize("topic", sorted(FAQ_TOPICS))
def test_a_known_topic_is_answered_with_its_response(
    topic: str, tracker_for: Callable[..., Tracker]
) -> None:
    tracker = tracker_for(
        faq_payload(topic),
        "choose_faq",
        confidence=1.0,
        entities=[{"entity": "faq_topic", "value": topic, "start": 11, "end": 30}],
    )
    messages, events = run_action(ActionAnswerChosenFaq(), tracker)
    assert events == []
    assert len(messages) == 1
    assert messages[0]["response"] == f"utter_faq/{topic}"
    assert messages[0]["text"] is None


@pytest.mark.parametrize(
    "entities",
    [
        [],
        [{"entity": "faq_topic", "value": "bestaat_niet"}],
        [{"entity": "faq_topic", "value": "<script>alert(1)</script>"}],
        [{"entity": "faq_topic", "value": ""}],
        [{"entity": "reference", "value": "stappen"}],
        # Button payloads set any JSON value: `/choose_faq{"faq_topic": {"x": 1}}` once crashed.
        [{"entity": "faq_topic", "value": {"x": 1}}],
        [{"entity": "faq_topic", "value": ["stappen"]}],
        [{"entity": "faq_topic", "value": None}, {"entity": "faq_topic", "value": 3}],
    ],
)
def test_an_unknown_or_missing_topic_offers_buttons(
    entities: list[dict[str, Any]], tracker_for: Callable[..., Tracker]
) -> None:
    tracker = tracker_for("/choose_faq", "choose_faq", entities=entities)
    messages, _ = run_action(ActionAnswerChosenFaq(), tracker)
    assert len(messages) == 1
    message = messages[0]
    assert message["response"] == "utter_unknown_topic"
    assert "<script>" not in str(message)
    assert message["buttons"][-1] == SOMETHING_ELSE
    assert len(message["buttons"]) == 3
    for button in message["buttons"][:-1]:
        assert parse_payload(button["payload"])[1]["faq_topic"] in FAQ_TOPICS


def test_every_topic_has_a_response_and_every_response_a_topic(
    faq_responses: dict[str, Any],
) -> None:
    response_topics = {
        name.removeprefix("utter_faq/") for name in faq_responses if name.startswith("utter_faq/")
    }
    assert response_topics == set(FAQ_TOPICS)
    for topic in FAQ_TOPICS:
        variations = faq_responses[f"utter_faq/{topic}"]
        assert variations, topic
        assert all(str(v.get("text", "")).strip() for v in variations), topic


def test_every_topic_has_training_examples() -> None:
    with open(REPO_ROOT / "data" / "nlu" / "faq.yml", encoding="utf-8") as handle:
        nlu = yaml.safe_load(handle)["nlu"]
    trained = {
        item["intent"].removeprefix("faq/")
        for item in nlu
        if str(item.get("intent", "")).startswith("faq/")
    }
    assert trained == set(FAQ_TOPICS)


def _choose_faq_payloads(responses: dict[str, Any]) -> list[str]:
    return [
        button["payload"]
        for variations in responses.values()
        for variation in variations or []
        for button in variation.get("buttons") or []
        if str(button.get("payload", "")).startswith("/choose_faq")
    ]


def test_topic_buttons_in_the_responses_point_to_known_topics(
    faq_responses: dict[str, Any], domain: dict[str, Any]
) -> None:
    templates = _choose_faq_payloads(faq_responses) + _choose_faq_payloads(domain["responses"])
    assert templates
    for template in templates:
        # Responses are templates: Rasa turns doubled braces into the payload's single braces;
        # single braces would be taken for a slot placeholder (and logged as an error).
        assert "{{" in template and "}}" in template, template
        payload = template.replace("{{", "{").replace("}}", "}")
        intent, entities = parse_payload(payload)
        assert intent == "choose_faq"
        assert entities["faq_topic"] in FAQ_TOPICS, payload


# --- ActionClarify ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", None])
def test_clarify_an_empty_message(text: str | None, tracker_for: Callable[..., Tracker]) -> None:
    messages, events = run_action(ActionClarify(), tracker_for(text, "nlu_fallback"))
    assert events == []
    assert len(messages) == 1
    assert messages[0]["response"] == "utter_clarify_empty"
    assert messages[0]["buttons"] == clarification_buttons(DOMAIN, {})


def test_core_fallback_clarifies_and_ends_the_turn(tracker_for: Callable[..., Tracker]) -> None:
    tracker = tracker_with_parse(COSTS_QUESTION, tracker_for)
    messages, events = run_action(ActionCoreFallback(), tracker)
    assert messages[0]["buttons"] == clarification_buttons(DOMAIN, COSTS_QUESTION)
    # Reverting the message stops Rasa from predicting the fallback again for the same message.
    assert [event["event"] for event in events] == ["rewind"]


def test_clarify_offers_the_likeliest_topics(tracker_for: Callable[..., Tracker]) -> None:
    tracker = tracker_with_parse(COSTS_QUESTION, tracker_for)
    messages, _ = run_action(ActionClarify(), tracker)
    assert len(messages) == 1
    assert messages[0]["response"] == "utter_clarify"
    assert messages[0]["buttons"] == clarification_buttons(DOMAIN, COSTS_QUESTION)
    assert messages[0]["buttons"][0]["title"] == "Kosten en subsidie"


def test_clarify_without_likely_topics_offers_popular_ones(
    tracker_for: Callable[..., Tracker],
) -> None:
    data = parse_data("qwerty uiop", [("nlu_fallback", 0.7), ("out_of_scope", 0.3)])
    messages, _ = run_action(ActionClarify(), tracker_with_parse(data, tracker_for))
    assert messages[0]["response"] == "utter_clarify"
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "Wat is het KVO?",
        "De stappen naar het keurmerk",
        "Iets anders",
    ]


def test_clarify_does_not_echo_what_was_typed(tracker_for: Callable[..., Tracker]) -> None:
    typed = "<b>drop table</b> 🙂 ÄÖÜ " + "x" * 5000
    data = parse_data(typed, [("nlu_fallback", 1.0)])
    messages, _ = run_action(ActionClarify(), tracker_with_parse(data, tracker_for))
    assert "drop table" not in str(messages)
    assert "xxxx" not in str(messages)


# --- ActionEnglish ------------------------------------------------------------------------------


def test_english_with_a_clear_topic_answers_it(tracker_for: Callable[..., Tracker]) -> None:
    data = parse_data(
        "how much does the KVO cost?",
        [("english", 0.97), ("faq", 0.03)],
        [("kosten_subsidie", 0.82), ("verzekering_korting", 0.1)],
    )
    messages, events = run_action(ActionEnglish(), tracker_with_parse(data, tracker_for))
    assert events == []
    assert messages[0]["response"] == "utter_english"
    assert "pvo-test.example" in messages[0]["contact_route"]  # always a way to a person
    assert messages[-1]["response"] == "utter_faq/kosten_subsidie"
    assert not any(m["buttons"] for m in messages)


def test_english_at_the_threshold_still_answers(tracker_for: Callable[..., Tracker]) -> None:
    data = parse_data("what are the steps", [("english", 0.9)], [("stappen", 0.6)])
    messages, _ = run_action(ActionEnglish(), tracker_with_parse(data, tracker_for))
    assert messages[-1]["response"] == "utter_faq/stappen"


@pytest.mark.parametrize(
    "faq",
    [
        [("sterren", 0.45), ("geldigheid_hercertificering", 0.35), ("privacy", 0.2)],
        [("bestaat_niet", 0.99), ("sterren", 0.01)],  # confident, but not a known topic
    ],
)
def test_english_when_unsure_offers_buttons(
    faq: list[tuple[str, float]], tracker_for: Callable[..., Tracker]
) -> None:
    data = parse_data("tell me about stars and stuff", [("english", 0.95)], faq)
    messages, _ = run_action(ActionEnglish(), tracker_with_parse(data, tracker_for))
    assert messages[0]["response"] == "utter_english"
    assert not any(str(m["response"]).startswith("utter_faq/") for m in messages)
    buttons = messages[-1]["buttons"]
    assert messages[-1]["response"] == "utter_english_topics"
    assert buttons[-2:] == [SOMETHING_ELSE, HANDOFF]
    topics = [parse_payload(b["payload"])[1]["faq_topic"] for b in buttons[:-2]]
    if faq[0][0] == "sterren":
        # Ranked by the response selector alone (the intent is "english", not "faq").
        assert topics == ["sterren", "geldigheid_hercertificering", "privacy"]
    else:
        assert topics == ["wat_is_kvo", "stappen"]


def test_english_without_response_selector(tracker_for: Callable[..., Tracker]) -> None:
    messages, _ = run_action(ActionEnglish(), tracker_for("hello there", "english"))
    assert messages[0]["response"] == "utter_english"
    assert [b["title"] for b in messages[-1]["buttons"]] == [
        "Wat is het KVO?",
        "De stappen naar het keurmerk",
        "Iets anders",
        "Een medewerker spreken",
    ]


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("what does it cost", "kosten_subsidie"),
        ("Is there an insurance discount?", "verzekering_korting"),
        ("what is the safe business certificate", "wat_is_kvo"),
        ("hello there", None),
    ],
)
def test_clear_english_key_words_name_a_topic(text: str, topic: str | None) -> None:
    assert english_topic(text) == topic


# --- two unclear messages in a row, follow-ups ---------------------------------------------------


def _events(*steps: tuple[str, str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for kind, value in steps:
        if kind == "user":
            events.append({"event": "user", "text": value})
        elif kind == "action":
            events.append({"event": "action", "name": value})
        else:
            events.append({"event": "bot", "text": "…", "metadata": {"utter_action": value}})
    return events


def test_the_second_unclear_message_in_a_row_offers_a_person(
    tracker_for: Callable[..., Tracker],
) -> None:
    tracker = tracker_for("zeg maar iets", "nlu_fallback")
    tracker.events = _events(
        ("user", "hmm"), ("action", "action_clarify"), ("user", "zeg maar iets")
    )
    assert previous_turn_was_unclear(tracker)
    messages, _ = run_action(ActionClarify(), tracker)
    assert messages[0]["response"] == "utter_unclear_again"
    assert "pvo-test.example" in messages[0]["contact_route"]


def test_an_unclear_message_after_an_answer_is_clarified(
    tracker_for: Callable[..., Tracker],
) -> None:
    tracker = tracker_for("zeg maar iets", "nlu_fallback")
    tracker.events = _events(
        ("user", "hmm"), ("action", "action_clarify"), ("user", "kosten"),
        ("action", "utter_faq"), ("bot", "utter_faq/kosten_subsidie"), ("user", "zeg maar iets"),
    )  # fmt: skip
    assert not previous_turn_was_unclear(tracker)


def test_follow_ups_go_one_level_further_each_time(
    tracker_for: Callable[..., Tracker], faq_responses: dict[str, Any]
) -> None:
    domain = DOMAIN  # the engine sends the merged domain
    answer = [("user", "wat kost het"), ("action", "utter_faq"), ("bot", "utter_faq/stappen")]
    first = tracker_for("meer graag", "explain_more")
    first.events = _events(*answer, ("user", "meer graag"))
    assert last_topic_and_followups(first) == ("stappen", 0)
    messages, _ = run_action_with_domain(ActionExplainMore(), first, domain)
    assert messages[0]["response"] == "utter_more_related"
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[-1] == "/human_handoff"
    assert all("{{" not in p for p in payloads)
    assert parse_payload(payloads[0])[1]["faq_topic"] in FAQ_TOPICS

    second = tracker_for("nog meer", "explain_more")
    second.events = _events(
        *answer, ("user", "meer graag"), ("action", "action_explain_more"), ("user", "nog meer")
    )
    messages, _ = run_action_with_domain(ActionExplainMore(), second, domain)
    assert messages[0]["response"] == "utter_more_person"

    third = tracker_for("en nog meer", "explain_more")
    third.events = [*second.events, *_events(("action", "action_explain_more"), ("user", "x"))]
    messages, _ = run_action_with_domain(ActionExplainMore(), third, domain)
    assert messages[0]["response"] == "utter_more_which"


def test_a_follow_up_without_an_earlier_answer_asks_which_topic(
    tracker_for: Callable[..., Tracker], domain: dict[str, Any]
) -> None:
    messages, _ = run_action_with_domain(
        ActionExplainMore(), tracker_for("meer", "explain_more"), domain
    )
    assert messages[0]["response"] == "utter_more_which"
    assert messages[0]["buttons"]
