"""Intake booking in the chat: start the form, offer free slots, summarise, book, correct, stop.

The questions themselves are in actions/intake_form.py; the database work in
actions/intake_store.py. Every text is a domain response; values come in as variables.
"""

from __future__ import annotations

import logging
from datetime import datetime

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.buttons import CALLBACK, OTHER_WEEK, buttons
from actions.contact import contact_route
from actions.intake_form import (
    CONTACT_SLOT,
    DRAFT_KEYS,
    INTAKE_ORDER,
    STOPPED_NO_CONSENT,
    STOPPED_OUTSIDE_REGION,
    STOPPED_STORE,
)
from actions.intake_store import (
    StoreProblem,
    book,
    contact_area_of,
    discard_draft,
    load_draft,
    offer_slots,
    run_in_store,
    save_fields,
)
from actions.tracker_input import as_text, client_key, entity_values, sender_id, slot, slot_text
from kvo import intake
from kvo.availability import Slot, parse_slot_token
from kvo.dutch_dates import format_slot, format_slot_short
from kvo.lead_fields import InvalidFields, LeadFields, lead_summary
from kvo.models import ContactArea
from kvo.settings import get_settings

logger = logging.getLogger(__name__)

# Slots of one intake attempt; cleared at the start, on stop and after booking.
INTAKE_SLOTS = (
    *INTAKE_ORDER, "intake_email", "intake_phone", "intake_question_check", "intake_stopped",
    "intake_outside_province", "intake_slot", "intake_week", "callback_question",
)  # fmt: skip
# The answers "Nee, iets wijzigen" can change, in the summary's order; each button's title is the
# response utter_button_change_<name>.
CHANGEABLE_FIELDS = (
    "intake_name",
    CONTACT_SLOT,
    "intake_municipality",
    "intake_area",
    "intake_role",
    "intake_organisation",
    "intake_area_kind",
    "intake_description",
)
MANAGE_SLOTS = ("manage_reference", "manage_email", "manage_action")


def reset(names: tuple[str, ...] = INTAKE_SLOTS, tracker: Tracker | None = None) -> list[EventType]:
    """Clear the slots; with a tracker, only those that hold a value. (A form validates the slot
    events just before it, so clearing empty slots right before a form would "answer" them.)"""
    return [
        SlotSet(name, None) for name in names if tracker is None or slot(tracker, name) is not None
    ]


def unavailable(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(response="utter_intake_unavailable", contact_route=contact_route())


def said_why_it_stopped(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """After the intake or callback form: say why it ended without all answers, if it did."""
    stopped = slot_text(tracker, "intake_stopped")
    if stopped == STOPPED_NO_CONSENT or slot_text(tracker, "intake_consent") == "nee":
        dispatcher.utter_message(response="utter_intake_no_consent", contact_route=contact_route())
    elif stopped == STOPPED_OUTSIDE_REGION:
        dispatcher.utter_message(response="utter_intake_outside_region")
    elif stopped == STOPPED_STORE:
        unavailable(dispatcher)
    else:
        return False
    return True


def slot_buttons(domain: DomainDict, slots: tuple[Slot, ...]) -> list[dict[str, str]]:
    """A button per free time, then "Andere week"."""
    tz = get_settings().tzinfo
    times = [
        {
            "title": format_slot_short(found.starts_at, tz),
            "payload": f'/choose_slot{{"intake_slot": "{found.token}"}}',
        }
        for found in slots
    ]
    return [*times, *buttons(domain, OTHER_WEEK)]


def week_of(tracker: Tracker) -> int:
    value = slot(tracker, "intake_week")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(0, min(int(value), 12))


async def offer(
    dispatcher: CollectingDispatcher,
    domain: DomainDict,
    area: ContactArea,
    week: int,
    *,
    callback_button: bool = True,
    response: str = "utter_intake_offer_slots",
) -> None:
    """The earliest free slots of the area in that week as buttons, or why there are none."""
    slots = await run_in_store(offer_slots, area, week)
    # "Bel mij liever": a callback request instead of a time.
    offered = [
        *slot_buttons(domain, slots),
        *(buttons(domain, CALLBACK) if callback_button else []),
    ]
    if slots:
        dispatcher.utter_message(response=response, buttons=offered)
    else:
        dispatcher.utter_message(response="utter_intake_no_slots", buttons=offered)


async def fields_of(tracker: Tracker) -> tuple[dict[str, str | None], LeadFields]:
    draft = await run_in_store(load_draft, sender_id(tracker))
    values = dict(draft)
    values["description"] = draft.get("description")
    return draft, LeadFields.from_draft(values)


def appointment(starts_at: datetime, ends_at: datetime) -> str:
    return format_slot(starts_at, ends_at, get_settings().tzinfo)


class ActionBookIntake(Action):
    """Starts an intake: a fresh attempt; the form then explains and asks for consent first."""

    def name(self) -> str:
        return "action_book_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_intake_intro")
        return reset(INTAKE_SLOTS, tracker) + reset(MANAGE_SLOTS, tracker)


class ActionIntakeNext(Action):
    """After the intake form: the reason it stopped, else free slots (or the summary)."""

    def name(self) -> str:
        return "action_intake_next"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if said_why_it_stopped(dispatcher, tracker):
            return reset()
        try:
            if parse_slot_token(slot_text(tracker, "intake_slot")) is not None:
                return await ActionIntakeChooseSlot().summarise(dispatcher, tracker)
            draft = await run_in_store(load_draft, sender_id(tracker))
            area = contact_area_of(draft.get("municipality"))
            if area is None or not draft.get("consent_at"):
                dispatcher.utter_message(response="utter_intake_expired")
                return reset()
            await offer(dispatcher, domain, area, 0)
        except StoreProblem:
            unavailable(dispatcher)
            return reset()
        return [SlotSet("intake_week", 0)]


class ActionIntakeOtherWeek(Action):
    """ "Andere week": the earliest free slots of the following week."""

    def name(self) -> str:
        return "action_intake_other_week"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        week = week_of(tracker) + 1
        try:
            draft = await run_in_store(load_draft, sender_id(tracker))
            moving = slot_text(tracker, "manage_action") == "move" and draft.get("manage_area")
            area = (
                _area(draft.get("manage_area"))
                if moving
                else contact_area_of(draft.get("municipality"))
            )
            if area is None:
                dispatcher.utter_message(response="utter_intake_expired")
                return []
            await offer(dispatcher, domain, area, week, callback_button=not moving)
        except StoreProblem:
            unavailable(dispatcher)
            return []
        return [SlotSet("intake_week", week)]


def _area(value: str | None) -> ContactArea | None:
    try:
        return ContactArea(value) if value else None
    except ValueError:
        return None


class ActionIntakeChooseSlot(Action):
    """A slot button: the summary to confirm (or, when moving a booking, the move itself)."""

    def name(self) -> str:
        return "action_intake_choose_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        chosen = next(
            (as_text(v) for v in entity_values(tracker, "intake_slot") if as_text(v)), None
        ) or slot_text(tracker, "intake_slot")
        if parse_slot_token(chosen) is None:
            dispatcher.utter_message(response="utter_intake_choose_slot_again")
            return [SlotSet("intake_slot", None)]
        if slot_text(tracker, "manage_action") == "move":
            from actions.manage_booking import move_to  # one module per job; no import cycle

            return await move_to(dispatcher, tracker, domain, chosen)
        try:
            return [SlotSet("intake_slot", chosen)] + await self.summarise(
                dispatcher, tracker, chosen
            )
        except StoreProblem:
            unavailable(dispatcher)
            return []

    async def summarise(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, token: str | None = None
    ) -> list[EventType]:
        start = parse_slot_token(token or slot_text(tracker, "intake_slot"))
        draft, fields = await fields_of(tracker)
        if start is None or not draft.get("consent_at"):
            dispatcher.utter_message(response="utter_intake_expired")
            return reset()
        rows = lead_summary(fields, settings=get_settings())
        lines = "\n".join(f"{label}: {value}" for label, value in rows)
        dispatcher.utter_message(
            response="utter_intake_summary",
            summary=lines,
            appointment=format_slot_short(start, get_settings().tzinfo),
        )
        return []


class ActionIntakeBook(Action):
    """ "Ja, boeken": books the chosen slot; a retried confirmation finds the same booking."""

    def name(self) -> str:
        return "action_intake_book"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        start = parse_slot_token(slot_text(tracker, "intake_slot"))
        if start is None:
            dispatcher.utter_message(response="utter_intake_nothing_to_confirm")
            return []
        try:
            _draft, fields = await fields_of(tracker)
            outcome = await run_in_store(
                book, fields, start, sender_id(tracker), client_key(tracker)
            )
            return await self._answer(dispatcher, domain, outcome)
        except StoreProblem:
            unavailable(dispatcher)
            return []

    async def _answer(
        self, dispatcher: CollectingDispatcher, domain: DomainDict, outcome: intake.BookingOutcome
    ) -> list[EventType]:
        settings = get_settings()
        if isinstance(outcome, intake.Booked):
            dispatcher.utter_message(
                response="utter_intake_booked",
                reference=outcome.reference,
                appointment=appointment(outcome.starts_at, outcome.ends_at),
            )
            if settings.intake_mode:
                dispatcher.utter_message(response=f"utter_intake_mode_{settings.intake_mode}")
            if settings.intake_preparation:
                dispatcher.utter_message(
                    response="utter_intake_preparation", preparation=settings.intake_preparation
                )
            # The booking is made; the slot token stays so that a retried "Ja" finds it again.
            return [
                *reset(tuple(name for name in INTAKE_SLOTS if name != "intake_slot")),
            ]
        if isinstance(outcome, intake.SlotTaken):
            if outcome.alternatives:
                dispatcher.utter_message(
                    response="utter_intake_slot_taken",
                    buttons=[
                        *slot_buttons(domain, outcome.alternatives),
                        *buttons(domain, CALLBACK),
                    ],
                )
            else:
                dispatcher.utter_message(
                    response="utter_intake_no_slots",
                    buttons=buttons(domain, CALLBACK),
                )
            return [SlotSet("intake_slot", None), SlotSet("intake_week", 0)]
        if isinstance(outcome, intake.LimitReached):
            dispatcher.utter_message(response="utter_intake_limit", contact_route=contact_route())
            return reset()
        if isinstance(outcome, InvalidFields):
            # Should not happen (every answer was checked); ask the missing ones again.
            logger.info("intake.invalid_fields count=%d", len(outcome.problems))
            dispatcher.utter_message(response="utter_intake_expired")
            return reset()
        unavailable(dispatcher)
        return []


class ActionIntakeChange(Action):
    """ "Nee, iets wijzigen": which answer, then that question again; then back to the summary."""

    def name(self) -> str:
        return "action_intake_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        field = next(
            (
                as_text(v)
                for v in entity_values(tracker, "intake_field")
                if as_text(v) in CHANGEABLE_FIELDS
            ),
            None,
        )
        if field is None:
            dispatcher.utter_message(
                response="utter_intake_change_which",
                buttons=buttons(
                    domain,
                    *(
                        (
                            f"utter_button_change_{name}",
                            f'/change_field{{"intake_field": "{name}"}}',
                        )
                        for name in CHANGEABLE_FIELDS
                    ),
                ),
            )
            return []
        cleared: dict[str, str | None] = (
            {"email": None, "phone": None} if field == CONTACT_SLOT else {DRAFT_KEYS[field]: None}
        )
        try:
            draft = await run_in_store(load_draft, sender_id(tracker))
            if not draft.get("consent_at"):
                dispatcher.utter_message(response="utter_intake_expired")
                return reset()
            await run_in_store(save_fields, sender_id(tracker), cleared)
        except StoreProblem:
            unavailable(dispatcher)
            return []
        dispatcher.utter_message(response="utter_intake_change_ok")
        events: list[EventType] = [SlotSet(field, None), SlotSet("requested_slot", None)]
        if field == CONTACT_SLOT:
            events += [SlotSet("intake_email", None), SlotSet("intake_phone", None)]
        return [*events, FollowupAction("intake_form")]


class ActionIntakeStop(Action):
    """ "stop" / "laat maar": ends the intake (or callback, cancel, move) and forgets the answers."""

    def name(self) -> str:
        return "action_intake_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            had_draft = await run_in_store(discard_draft, sender_id(tracker))
        except StoreProblem:
            had_draft = True  # the draft expires on its own; still say we stopped
        busy = had_draft or any(slot(tracker, name) is not None for name in INTAKE_SLOTS)
        dispatcher.utter_message(
            response="utter_intake_stopped" if busy else "utter_stopped_nothing_open"
        )
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            *reset(),
            *reset(MANAGE_SLOTS),
        ]
