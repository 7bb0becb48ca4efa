"""Cancel or move a booked intake in the chat, with the INT reference and the e-mail address used.

The same rule as the status check: an unknown reference and a wrong address get the same answer,
and every failed attempt counts towards the lockout (kvo/intake.py does both). The address is
personal: it lives in the conversation's draft between turns, never in a kept slot.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.contact import contact_route
from actions.intake import MANAGE_SLOTS, appointment, offer, reset, unavailable
from actions.intake_form import after_visitor_message, is_stop
from actions.intake_store import (
    StoreProblem,
    cancel,
    discard_draft,
    load_draft,
    move,
    run_in_store,
    save_fields,
    verify,
)
from actions.tracker_input import (
    as_text,
    client_key,
    latest_intent,
    latest_text,
    sender_id,
    slot,
    slot_text,
)
from kvo import intake
from kvo.availability import parse_slot_token
from kvo.contact_details import normalize_email, normalize_phone
from kvo.models import ContactArea
from kvo.settings import get_settings

_DRAFT_ATTRIBUTE = "_pvo_manage_draft"
NOT_ANSWERS = frozenset(
    {"faq", "choose_faq", "faq_menu", "human_handoff", "bot_challenge", "emergency", "english"}
)


class ActionManageStart(Action):
    """ "Ik wil mijn afspraak annuleren/verzetten": notes which, and explains what is needed."""

    def name(self) -> str:
        return "action_manage_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        action = "move" if latest_intent(tracker) == "move_booking" else "cancel"
        try:
            # A fresh attempt: forget the reference and address of an earlier one.
            await run_in_store(
                save_fields,
                sender_id(tracker),
                {"manage_reference": None, "manage_email": None, "manage_area": None},
            )
        except StoreProblem:
            unavailable(dispatcher)
            return []
        dispatcher.utter_message(response=f"utter_manage_intro_{action}")
        return [
            *reset(MANAGE_SLOTS),
            SlotSet("manage_action", action),
            SlotSet("intake_slot", None),
        ]


class ValidateManageBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_manage_booking_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            setattr(tracker, _DRAFT_ATTRIBUTE, await run_in_store(load_draft, sender_id(tracker)))
            return await super().run(dispatcher, tracker, domain)
        except StoreProblem:
            unavailable(dispatcher)
            return [SlotSet("manage_action", None), SlotSet("requested_slot", None)]

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if not slot_text(tracker, "manage_action"):
            return []
        # From the draft only: a value just extracted in this turn must still be validated.
        draft = getattr(tracker, _DRAFT_ATTRIBUTE, None) or {}
        return [name for name in ("manage_reference", "manage_email") if not draft.get(name)]

    def _answer(self, name: str, tracker: Tracker) -> str | None:
        requested = slot(tracker, "requested_slot")
        text = latest_text(tracker).strip()[:400]
        if requested is None and name == "manage_reference":
            return intake.normalize_booking_reference(text)  # "ik wil INT-ABC234 annuleren"
        if requested != name or not after_visitor_message(tracker):
            return None
        # A valid answer first: "cor.cancel@voorbeeld.nl" is an address, not a "stop".
        if name == "manage_reference" and intake.normalize_booking_reference(text):
            return text
        if name == "manage_email" and (normalize_email(text) or normalize_phone(text)):
            return text
        if is_stop(text, latest_intent(tracker)):
            return None
        return None if latest_intent(tracker) in NOT_ANSWERS else text

    async def extract_manage_reference(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = self._answer("manage_reference", tracker)
        return {} if found is None else {"manage_reference": found}

    async def extract_manage_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = self._answer("manage_email", tracker)
        return {} if found is None else {"manage_email": found}

    async def validate_manage_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reference = intake.normalize_booking_reference(as_text(value, 400))
        if reference is None:
            if slot(tracker, "requested_slot") == "manage_reference":
                dispatcher.utter_message(response="utter_manage_invalid_reference")
            return {"manage_reference": None}
        await run_in_store(save_fields, sender_id(tracker), {"manage_reference": reference})
        return {"manage_reference": reference}

    async def validate_manage_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = as_text(value, 400)
        if not (normalize_email(text) or normalize_phone(text)):
            dispatcher.utter_message(response="utter_manage_invalid_email")
            return {"manage_email": None}
        await run_in_store(save_fields, sender_id(tracker), {"manage_email": text})
        return {"manage_email": "ok"}


async def _credentials(tracker: Tracker) -> tuple[str, str, dict[str, str | None]]:
    draft = await run_in_store(load_draft, sender_id(tracker))
    reference = draft.get("manage_reference") or slot_text(tracker, "manage_reference")
    return reference, draft.get("manage_email") or "", draft


def _refused(dispatcher: CollectingDispatcher, outcome: object) -> list[EventType] | None:
    """The answer for a failed check (same for unknown reference and wrong address)."""
    if isinstance(outcome, intake.NotFound):
        dispatcher.utter_message(response="utter_manage_not_found")
    elif isinstance(outcome, intake.LockedOut):
        until = outcome.until.astimezone(get_settings().tzinfo)
        dispatcher.utter_message(
            response="utter_manage_locked", until=f"{until:%H:%M}", contact_route=contact_route()
        )
    elif isinstance(outcome, intake.NotChangeable):
        dispatcher.utter_message(
            response="utter_manage_not_changeable", contact_route=contact_route()
        )
    else:
        return None
    return reset(MANAGE_SLOTS)


class ActionManageBooking(Action):
    """After the form: cancel at once, or check the details and offer new slots for a move."""

    def name(self) -> str:
        return "action_manage_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        action = slot_text(tracker, "manage_action")
        if action not in ("cancel", "move"):
            dispatcher.utter_message(response="utter_intake_stopped")
            return reset(MANAGE_SLOTS)
        conversation, client = sender_id(tracker), client_key(tracker)
        try:
            reference, contact, _draft = await _credentials(tracker)
            if action == "cancel":
                outcome = await run_in_store(cancel, reference, contact, conversation, client)
                await run_in_store(discard_draft, conversation)
                if isinstance(outcome, intake.Cancelled):
                    if outcome.starts_at and outcome.ends_at:
                        dispatcher.utter_message(
                            response="utter_manage_cancelled",
                            reference=outcome.reference,
                            appointment=appointment(outcome.starts_at, outcome.ends_at),
                        )
                    else:
                        dispatcher.utter_message(
                            response="utter_manage_cancelled_callback", reference=outcome.reference
                        )
                    return reset(MANAGE_SLOTS)
                return _refused(dispatcher, outcome) or reset(MANAGE_SLOTS)
            found = await run_in_store(verify, reference, contact, conversation, client)
            if isinstance(found, intake.BookingFound):
                if not found.can_move or not found.contact_area:
                    await run_in_store(discard_draft, conversation)
                    return _refused(dispatcher, intake.NotChangeable("geen_afspraak")) or []
                await run_in_store(save_fields, conversation, {"manage_area": found.contact_area})
                await offer(
                    dispatcher,
                    domain,
                    ContactArea(found.contact_area),
                    0,
                    callback_button=False,
                    response="utter_manage_offer_slots",
                )
                return [SlotSet("intake_week", 0), SlotSet("manage_email", None)]
            await run_in_store(discard_draft, conversation)
            return _refused(dispatcher, found) or reset(MANAGE_SLOTS)
        except StoreProblem:
            unavailable(dispatcher)
            return reset(MANAGE_SLOTS)


async def move_to(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, token: str
) -> list[EventType]:
    """The visitor picked a new slot for a verified booking: move it."""
    start = parse_slot_token(token)
    conversation, client = sender_id(tracker), client_key(tracker)
    try:
        reference, contact, _draft = await _credentials(tracker)
        if start is None or not contact:
            dispatcher.utter_message(response="utter_intake_expired")
            return reset(MANAGE_SLOTS)
        outcome = await run_in_store(move, reference, contact, start, conversation, client)
        if isinstance(outcome, intake.SlotTaken):
            from actions.intake import slot_buttons

            dispatcher.utter_message(
                response="utter_intake_slot_taken",
                buttons=slot_buttons(domain, outcome.alternatives),
            )
            return [SlotSet("intake_slot", None)]
        await run_in_store(discard_draft, conversation)
    except StoreProblem:
        unavailable(dispatcher)
        return reset(MANAGE_SLOTS)
    if isinstance(outcome, intake.Moved):
        dispatcher.utter_message(
            response="utter_manage_moved",
            reference=outcome.reference,
            appointment=appointment(outcome.starts_at, outcome.ends_at),
        )
        return [*reset(MANAGE_SLOTS), SlotSet("intake_slot", None)]
    return _refused(dispatcher, outcome) or reset(MANAGE_SLOTS)
