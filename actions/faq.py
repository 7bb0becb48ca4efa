"""FAQ capability: answering a topic chosen by button, clarifying unclear questions, English input."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.buttons import HANDOFF, SOMETHING_ELSE, buttons
from actions.contact import contact_route
from actions.faq_topics import FAQ_TOPICS, OFFERABLE_INTENTS, payload, title_response
from actions.tracker_input import (
    as_dict,
    as_list,
    as_probability,
    as_text,
    entity_values,
    latest_message,
)

MAX_SUGGESTIONS = 3
# Below this share of the probability a topic is not worth a button.
MIN_SUGGESTION_CONFIDENCE = 0.05
# An English question gets a Dutch FAQ answer only when the topic is this clear.
ENGLISH_ANSWER_CONFIDENCE = 0.6
# Actions that mean "the assistant did not understand the previous message" (or had to explain
# what it can do): after one of these, another unclear message gets a person.
UNCLEAR_ACTIONS = frozenset({"action_clarify", "action_core_fallback", "utter_capabilities"})
# English questions are not in the (Dutch) training data; a few key words are clear enough.
ENGLISH_TOPIC_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("kosten_subsidie", frozenset({"cost", "costs", "price", "fee", "pay", "expensive"})),
    ("verzekering_korting", frozenset({"insurance", "insurer", "discount"})),
    ("doorlooptijd", frozenset({"duration", "take"})),
    ("geldigheid_hercertificering", frozenset({"valid", "expire", "expires", "renew"})),
    ("stappen", frozenset({"steps", "step", "process", "procedure"})),
    ("werkgebied", frozenset({"region", "province", "area"})),
    ("privacy", frozenset({"privacy", "data"})),
    ("wat_is_kvo", frozenset({"kvo", "certificate", "keurmerk", "certification", "mark"})),
)
DEFAULT_SUGGESTIONS = ("wat_is_kvo", "stappen", "kosten_subsidie")


def _faq_selector(parse_data: dict[str, Any]) -> dict[str, Any]:
    """The response selector's result for the retrieval intent `faq` ({} when absent)."""
    return as_dict(as_dict(parse_data.get("response_selector")).get("faq"))


def ranked_suggestions(parse_data: dict[str, Any]) -> list[tuple[str, float]]:
    """Most likely topics of a parsed message as (key, probability), best first.

    A key is a FAQ topic name or an offerable intent. FAQ topics get the probability of the `faq`
    intent times the response selector's confidence in the topic, so they compete fairly with
    intents such as check_status.
    """
    scores: dict[str, float] = {}
    parse_data = as_dict(parse_data)
    faq_ranking = as_list(_faq_selector(parse_data).get("ranking"))
    for entry in as_list(parse_data.get("intent_ranking")):
        entry = as_dict(entry)
        name, confidence = entry.get("name"), as_probability(entry.get("confidence"))
        if name == "faq":
            for topic in faq_ranking:
                topic = as_dict(topic)
                key = as_text(topic.get("intent_response_key")).removeprefix("faq/")
                if key in FAQ_TOPICS:
                    score = confidence * as_probability(topic.get("confidence"))
                    scores[key] = max(scores.get(key, 0.0), score)
        elif isinstance(name, str) and name in OFFERABLE_INTENTS:
            scores[name] = max(scores.get(name, 0.0), confidence)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    return [(key, score) for key, score in ranked if score >= MIN_SUGGESTION_CONFIDENCE]


def clarification_buttons(domain: Any, parse_data: dict[str, Any]) -> list[dict[str, str]]:
    """Two or three likely topics (popular ones when nothing is likely) plus "Iets anders"."""
    keys = [key for key, _ in ranked_suggestions(parse_data)[:MAX_SUGGESTIONS]]
    for default in DEFAULT_SUGGESTIONS:
        if len(keys) >= 2:
            break
        if default not in keys:
            keys.append(default)
    return buttons(domain, *((title_response(key), payload(key)) for key in keys), SOMETHING_ELSE)


class ActionAnswerChosenFaq(Action):
    """Answers the FAQ topic of a button (`/choose_faq{"faq_topic": ...}`)."""

    def name(self) -> str:
        return "action_answer_chosen_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # Any JSON value can arrive here (`/choose_faq{"faq_topic": {"x": 1}}`): only a known
        # topic name counts.
        topic = next(iter(entity_values(tracker, "faq_topic")), None)
        if isinstance(topic, str) and topic in FAQ_TOPICS:
            dispatcher.utter_message(response=f"utter_faq/{topic}")
        else:
            dispatcher.utter_message(
                response="utter_unknown_topic", buttons=clarification_buttons(domain, {})
            )
        return []


def previous_turn_was_unclear(tracker: Tracker) -> bool:
    """Whether the assistant already had to clarify the visitor's previous message."""
    users_seen = 0
    for event in reversed(as_list(getattr(tracker, "events", None))):
        event = as_dict(event)
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                return False
        elif (
            users_seen == 1
            and event.get("event") == "action"
            and as_text(event.get("name")) in UNCLEAR_ACTIONS
        ):
            return True
    return False


class ActionClarify(Action):
    """Asks what the visitor means when the NLU is unsure, offering the likeliest topics.

    The second unclear message in a row gets a person instead of a third guess.
    """

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = latest_message(tracker)
        if not as_text(message.get("text")).strip():
            dispatcher.utter_message(
                response="utter_clarify_empty", buttons=clarification_buttons(domain, {})
            )
            return []
        if previous_turn_was_unclear(tracker):
            dispatcher.utter_message(response="utter_unclear_again", contact_route=contact_route())
            return []
        dispatcher.utter_message(
            response="utter_clarify", buttons=clarification_buttons(domain, message)
        )
        return []


class ActionCoreFallback(ActionClarify):
    """Dialogue fallback (no rule or story fits): clarify, then forget the message.

    Reverting the message ends the turn, as Rasa's default fallback does; otherwise the dialogue
    policy would predict this fallback again and again for the same message.
    """

    def name(self) -> str:
        return "action_core_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        await super().run(dispatcher, tracker, domain)
        return [UserUtteranceReverted()]


def english_topic(text: str) -> str | None:
    """The FAQ topic of a clear English question, from its key words (None when unclear)."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    for topic, keys in ENGLISH_TOPIC_WORDS:
        if words & keys:
            return topic
    return None


class ActionEnglish(Action):
    """Says in Dutch that the assistant speaks Dutch, offers a person, and answers a clear topic."""

    def name(self) -> str:
        return "action_english"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_english", contact_route=contact_route())
        message = latest_message(tracker)
        best = as_dict(_faq_selector(message).get("response"))
        topic = as_text(best.get("intent_response_key")).removeprefix("faq/")
        if (
            topic not in FAQ_TOPICS
            or as_probability(best.get("confidence")) < ENGLISH_ANSWER_CONFIDENCE
        ):
            topic = english_topic(as_text(message.get("text"))) or ""
        if topic in FAQ_TOPICS:
            dispatcher.utter_message(response="utter_english_answer")
            dispatcher.utter_message(response=f"utter_faq/{topic}")
        else:
            # Rank the FAQ topics alone: the intent here is "english", not "faq".
            topics_only = {
                "intent_ranking": [{"name": "faq", "confidence": 1.0}],
                "response_selector": as_dict(message.get("response_selector")),
            }
            dispatcher.utter_message(
                response="utter_english_topics",
                buttons=[*clarification_buttons(domain, topics_only), *buttons(domain, HANDOFF)],
            )
        return []
