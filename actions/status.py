"""Status capability: the status form (reference + access code) and the status answer.

The access code is checked by kvo.status and then cleared from the slots; it is never echoed in a
bot message and never logged. Unknown references and wrong codes get the same neutral answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
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
from kvo.references import REFERENCE_PATTERN, normalize_reference
from kvo.settings import get_settings
from kvo.status import Denied, Granted, LockedOut, StatusOutcome, check_status

logger = logging.getLogger(__name__)

# Intents that interrupt the form rather than answer its question; rules handle them. The
# intake form's intents are listed too, so the status form never takes them for a reference.
INTERRUPTIONS = frozenset(
    {
        "faq", "choose_faq", "faq_menu", "stop", "deny", "human_handoff", "bot_challenge",
        "book_intake", "greet", "goodbye", "thank", "english", "out_of_scope", "something_else",
        "request_callback", "cancel_booking", "move_booking", "skip", "other_week",
        "confirm_booking", "choose_slot", "change_field",
        "emergency", "lost_code", "capabilities", "explain_more", "contact", "stop_form",
    }
)  # fmt: skip
# An access code as printed on the letter (XXXX-XXXX) inside a longer message.
PRINTED_CODE = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-Za-z]{4}[-\u2010-\u2015][0-9A-Za-z]{4}(?![0-9A-Za-z])"
)
# Longer free text is no answer to "what is your reference/code?" and is not kept.
MAX_ANSWER_LENGTH = 60
# Messages are bounded by the channel; scanning more than this for a code gains nothing.
MAX_SCAN_CHARS = 2000
CLEARED_SLOTS = [SlotSet("reference_code", None), SlotSet("access_code", None)]


def printed_code(text: str) -> str | None:
    """A well-formed access code in its printed form (ABCD-EFGH) anywhere in ``text``.

    The reference is cut out first: "KVO-2024-0031" must not yield "2024-0031".
    """
    without_reference = REFERENCE_PATTERN.sub(" ", text[:MAX_SCAN_CHARS])
    for match in PRINTED_CODE.finditer(without_reference):
        code = normalize_code(match.group(0))
        if is_well_formed(code):
            return code
    return None


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
        text = latest_text(tracker)
        if slot(tracker, "requested_slot") != "access_code":
            # Not asked for yet: a code counts only in its printed form, in the same message as
            # the reference ("KVO-2024-0031, code WVZ4-LWUX").
            code = printed_code(text) if normalize_reference(text) else None
            return {"access_code": code} if code else {}
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
        dispatcher.utter_message(response="utter_status_reference_invalid")
        return {"reference_code": None}

    def validate_access_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = normalize_code(as_text(value))
        if is_well_formed(code):
            return {"access_code": code}
        dispatcher.utter_message(response="utter_status_code_invalid")
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
        self._answer(dispatcher, outcome, settings.timezone, domain)
        return CLEARED_SLOTS

    @staticmethod
    def _unavailable(dispatcher: CollectingDispatcher) -> None:
        dispatcher.utter_message(response="utter_status_unavailable", contact_route=contact_route())

    @classmethod
    def _answer(
        cls,
        dispatcher: CollectingDispatcher,
        outcome: StatusOutcome,
        tz_name: str,
        domain: DomainDict,
    ) -> None:
        if isinstance(outcome, Granted):
            today = datetime.now(ZoneInfo(tz_name)).date()
            report = format_status_report(outcome.report, today, domain)
            if not report:
                # The report's responses did not come with the domain: nothing to show.
                logger.error("status report has no responses in the domain")
                cls._unavailable(dispatcher)
                return
            dispatcher.utter_message(response="utter_status_report", report=report)
            if needs_recertification(outcome.report):
                dispatcher.utter_message(response="utter_status_offer_intake")
        elif isinstance(outcome, LockedOut):
            until = outcome.until.astimezone(ZoneInfo(tz_name))
            dispatcher.utter_message(
                response="utter_status_locked_out",
                until=f"{until:%H:%M}",
                contact_route=contact_route(),
            )
        elif isinstance(outcome, Denied):
            dispatcher.utter_message(response="utter_status_denied")


class ActionStopStatus(Action):
    """Stops the status form on request and forgets what was typed into it."""

    def name(self) -> str:
        return "action_stop_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_status_stopped")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *CLEARED_SLOTS]
