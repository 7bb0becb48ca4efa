"""Follow-ups ("meer uitleg graag"): the next level on the topic just answered, never a repeat.

Level one offers the topics that belong with the last FAQ answer (its own buttons); level two,
when the visitor still wants more, the way to a person. Without an earlier answer the assistant
asks which topic is meant.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.buttons import HANDOFF, buttons
from actions.contact import contact_route
from actions.faq import clarification_buttons
from actions.faq_topics import FAQ_TOPICS
from actions.tracker_input import as_dict, as_list, as_text

FAQ_PREFIX = "utter_faq/"
ACTION_NAME = "action_explain_more"


def last_topic_and_followups(tracker: Tracker) -> tuple[str | None, int]:
    """The FAQ topic answered last before this message, and how many follow-ups came after it."""
    followups = 0
    seen_current_message = False
    for event in reversed(as_list(getattr(tracker, "events", None))):
        event = as_dict(event)
        kind = event.get("event")
        if kind == "user":
            seen_current_message = True
        elif kind == "action" and event.get("name") == ACTION_NAME and seen_current_message:
            followups += 1
        elif kind == "bot":
            utter = as_text(as_dict(event.get("metadata")).get("utter_action"))
            if utter.startswith(FAQ_PREFIX):
                topic = utter.removeprefix(FAQ_PREFIX)
                return (topic if topic in FAQ_TOPICS else None), followups
    return None, followups


def related_buttons(domain: dict[str, Any], topic: str) -> list[dict[str, str]]:
    """The buttons of the topic's own answer, as the visitor saw them, plus a person."""
    variants = as_list(as_dict(as_dict(domain).get("responses")).get(FAQ_PREFIX + topic))
    found = []
    for shown in as_list(as_dict(variants[0] if variants else {}).get("buttons")):
        shown = as_dict(shown)
        title, payload = as_text(shown.get("title")), as_text(shown.get("payload"))
        if title and payload and payload != HANDOFF[1]:
            # Domain payloads double their braces for Rasa's variable filling; these buttons
            # are sent as they are.
            found.append({"title": title, "payload": payload.replace("{{", "{").replace("}}", "}")})
    return [*found, *buttons(domain, HANDOFF)]


class ActionExplainMore(Action):
    def name(self) -> str:
        return ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        topic, followups = last_topic_and_followups(tracker)
        if topic is not None and followups == 0:
            dispatcher.utter_message(
                response="utter_more_related", buttons=related_buttons(domain, topic)
            )
        elif topic is not None and followups == 1:
            dispatcher.utter_message(response="utter_more_person", contact_route=contact_route())
        else:
            # No topic yet, or every level given: ask which topic is meant.
            dispatcher.utter_message(
                response="utter_more_which", buttons=clarification_buttons(domain, {})
            )
        return []
