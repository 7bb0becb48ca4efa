"""Status capability: the status form (reference + access code) and the status answer.

The access code is checked by kvo.status and then cleared from the slots; it is never echoed in a
bot message and never logged. Unknown references and wrong codes get the same neutral answer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.contact import contact_route
from actions.errors import describe_error
from actions.status_text import format_status_report, needs_recertification
from actions.tracker_input import (
    as_text,
    client_key,
    latest_intent,
    latest_text,
    sender_id,
    slot,
    slot_text,
)
from kvo.access_codes import is_well_formed, normalize_code
from kvo.db import StoreUnavailable, session_scope
from kvo.references import normalize_reference
from kvo.settings import get_settings
from kvo.status import Denied, Granted, LockedOut, StatusOutcome, check_status

logger = logging.getLogger(__name__)

# Intents that interrupt the form rather than answer its question; rules handle them.
INTERRUPTIONS = frozenset(
    {
        "faq", "choose_faq", "faq_menu", "stop", "deny", "human_handoff", "bot_challenge",
        "book_intake", "greet", "goodbye", "thank", "english", "out_of_scope", "something_else",
        "request_callback", "cancel_booking", "move_booking", "skip", "other_week",
        "confirm_booking", "choose_slot", "change_field",
    }
)  # fmt: skip
# Longer free text is no answer to "what is your reference/code?" and is not kept.
MAX_ANSWER_LENGTH = 60
CLEARED_SLOTS = [SlotSet("reference_code", None), SlotSet("access_code", None)]


def _is_interruption(tracker: Tracker) -> bool:
    return latest_intent(tracker) in INTERRUPTIONS


class ValidateStatusForm(FormValidationAction):
    """Finds the reference and access code in what the visitor types, in any sloppy form."""

    def name(self) -> str:
        return "validate_status_form"

    async def extract_reference_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = latest_text(tracker)
        reference = normalize_reference(text)
        if reference:
            return {"reference_code": reference}
        if slot(tracker, "requested_slot") == "reference_code" and not _is_interruption(tracker):
            # Not a reference: keep it so that validation explains the expected form.
            return {"reference_code": text[:MAX_ANSWER_LENGTH]}
        return {}

    async def extract_access_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot(tracker, "requested_slot") != "access_code":
            return {}
        text = latest_text(tracker)
        if is_well_formed(normalize_code(text)) or not _is_interruption(tracker):
            return {"access_code": text[:MAX_ANSWER_LENGTH]}
        return {}

    def validate_reference_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # Slots can hold any JSON value; only text can be a reference.
        reference = normalize_reference(as_text(value))
        if reference:
            return {"reference_code": reference}
        dispatcher.utter_message(
            text=(
                "Dat herken ik niet als referentie van een KVO-traject. Een referentie ziet er zo uit:"
                ' KVO-2024-0031. Wilt u stoppen? Typ dan "stop".'
            )
        )
        return {"reference_code": None}

    def validate_access_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = normalize_code(as_text(value))
        if is_well_formed(code):
            return {"access_code": code}
        dispatcher.utter_message(
            text=(
                "Dat lijkt geen toegangscode. Een toegangscode heeft 8 letters en cijfers, zoals"
                ' ABCD-EFGH. Wilt u stoppen? Typ dan "stop".'
            )
        )
        return {"access_code": None}


def _lookup(reference: str, code: str, conversation_id: str, client: str | None) -> StatusOutcome:
    with session_scope() as session:
        return check_status(
            session, reference, code, conversation_id, datetime.now(UTC), client_key=client
        )


class ActionCheckStatus(Action):
    """Looks up the trajectory status and answers; always clears both codes from the slots."""

    def name(self) -> str:
        return "action_check_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        settings = get_settings()
        reference = slot_text(tracker, "reference_code")
        code = slot_text(tracker, "access_code")
        lookup = (reference, code, sender_id(tracker), client_key(tracker))
        try:
            # In a thread, bounded in time: a slow database never blocks the action server.
            outcome = await asyncio.wait_for(
                asyncio.to_thread(_lookup, *lookup), timeout=settings.db_timeout_seconds
            )
        except (TimeoutError, StoreUnavailable) as error:
            logger.warning("status lookup unavailable: %s", type(error).__name__)
            self._unavailable(dispatcher)
            return CLEARED_SLOTS
        except Exception as error:
            # A deployment fault (schema missing, damaged file, bad setting): the visitor still
            # gets a clear answer; operators get the error's type and place, never its text
            # (a database error can quote the value it choked on).
            logger.error("status lookup failed: %s", describe_error(error))
            self._unavailable(dispatcher)
            return CLEARED_SLOTS
        self._answer(dispatcher, outcome, settings.timezone)
        return CLEARED_SLOTS

    @staticmethod
    def _unavailable(dispatcher: CollectingDispatcher) -> None:
        dispatcher.utter_message(
            text=(
                "Het lukt mij nu niet om de status op te zoeken; ons systeem is even niet"
                " bereikbaar. Probeer het later nog eens, of neem contact op met PVO"
                f" {contact_route()}."
            )
        )

    @staticmethod
    def _answer(dispatcher: CollectingDispatcher, outcome: StatusOutcome, tz_name: str) -> None:
        if isinstance(outcome, Granted):
            today = datetime.now(ZoneInfo(tz_name)).date()
            dispatcher.utter_message(text=format_status_report(outcome.report, today))
            if needs_recertification(outcome.report):
                dispatcher.utter_message(
                    text=(
                        "Wilt u een intake plannen met een procesbegeleider van PVO om de"
                        " hercertificering voor te bereiden?"
                    ),
                    buttons=[
                        {"title": "Ja, intake plannen", "payload": "/book_intake"},
                        {"title": "Nee, dank u", "payload": "/deny"},
                    ],
                )
        elif isinstance(outcome, LockedOut):
            until = outcome.until.astimezone(ZoneInfo(tz_name))
            dispatcher.utter_message(
                text=(
                    "Er is te vaak een onjuiste combinatie van referentie en toegangscode ingevoerd."
                    f" Probeert u het na {until:%H:%M} uur opnieuw. Lukt het niet? Neem dan contact"
                    f" op met PVO {contact_route()}."
                )
            )
        elif isinstance(outcome, Denied):
            dispatcher.utter_message(
                text=(
                    "Ik kan geen traject vinden bij deze combinatie van referentie en toegangscode."
                    " Controleer beide gegevens en probeer het opnieuw. Uw procesbegeleider kan u"
                    " helpen als u de code niet meer weet."
                ),
                buttons=[{"title": "Opnieuw proberen", "payload": "/check_status"}],
            )


class ActionStopStatus(Action):
    """Stops the status form on request and forgets what was typed into it."""

    def name(self) -> str:
        return "action_stop_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_status_stopped")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *CLEARED_SLOTS]
