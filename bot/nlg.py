"""Response generator: the domain's responses, with contact details from settings, never repeated.

Configured in endpoints.yml (`nlg: type: bot.nlg.PvoResponseGenerator`). It is Rasa's template
generator plus two things:

- Every response may use {contact_route}, {contact_phone}, {contact_email}, {office_hours},
  {callback_response_time}, {conversation_retention_days} and {lead_retention_months}. They come from the engine's environment, so contact details are
  configuration and never training data; unset details are simply not mentioned. A response
  `utter_x_with_hours` replaces `utter_x` when office hours are configured.
- A bot text identical to the bot's previous text in the conversation is replaced by
  `utter_repeated`: saying the same thing twice reads as a broken bot.
"""

from __future__ import annotations

import logging
from typing import Any

from actions.contact_route import contact_route_phrase
from actions.office_hours import parse_office_hours
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.engine_settings import EngineSettings

logger = logging.getLogger(__name__)

REPEATED_RESPONSE = "utter_repeated"
# A response `utter_x` may have a variant `utter_x_with_hours` that names {office_hours}; it is
# sent instead whenever office hours are configured (they are never invented).
WITH_HOURS_SUFFIX = "_with_hours"


def describe_office_hours(spec: str) -> str:
    """ "ma-vr 09:00-17:00" -> Dutch words; an unreadable value is left out (and logged once)."""
    if not spec:
        return ""
    try:
        return parse_office_hours(spec).describe()
    except ValueError:
        logger.warning("PVO_OFFICE_HOURS is not of the form 'ma-vr 09:00-17:00'; not shown")
        return ""


def contact_variables(settings: EngineSettings) -> dict[str, str]:
    """The values of the contact placeholders; {contact_route} follows "U bereikt PVO ..."."""
    return {
        "contact_route": contact_route_phrase(
            settings.contact_phone, settings.contact_email, settings.contact_url
        ),
        "contact_phone": settings.contact_phone,
        "contact_email": settings.contact_email,
        "office_hours": describe_office_hours(settings.office_hours),
        "callback_response_time": settings.callback_response_time,
        "conversation_retention_days": str(settings.conversation_retention_days),
        "lead_retention_months": str(settings.lead_retention_months),
    }


def previous_bot_text(tracker: DialogueStateTracker) -> str | None:
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            return event.text
    return None


class PvoResponseGenerator(TemplatedNaturalLanguageGenerator):
    def __init__(self, endpoint_config: Any = None, domain: Any = None, **_: Any) -> None:
        super().__init__(domain.responses if domain is not None else {})
        self.variables = contact_variables(EngineSettings.from_env())

    def generate_from_slots(
        self,
        utter_action: str,
        filled_slots: dict[str, Any],
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        # Explicit values (from an action) win over the configured ones.
        merged = {**self.variables, **kwargs}
        return super().generate_from_slots(utter_action, filled_slots, output_channel, **merged)

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        with_hours = utter_action + WITH_HOURS_SUFFIX
        if self.variables["office_hours"] and with_hours in self.responses:
            utter_action = with_hours
        response = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if not response or not response.get("text") or utter_action == REPEATED_RESPONSE:
            return response
        if response["text"] == previous_bot_text(tracker):
            replacement = await super().generate(REPEATED_RESPONSE, tracker, output_channel)
            if replacement:
                return replacement
        return response
