"""Callback request ("bel mij liever", "ik wil iemand spreken"): a lead of kind terugbelverzoek.

Only after the lead is stored does a text say that someone will get back to the visitor; the
response time is shown only when PVO configured it.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.contact import contact_route
from actions.intake import MANAGE_SLOTS, fields_of, reset, said_why_it_stopped, unavailable
from actions.intake_store import StoreProblem, call_back, run_in_store
from actions.tracker_input import client_key, sender_id, slot_text
from kvo import intake
from kvo.lead_fields import InvalidFields, LeadFields
from kvo.settings import get_settings


class ActionCallbackStart(Action):
    """Says what a callback request needs; the callback form asks only what is still missing."""

    def name(self) -> str:
        return "action_callback_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_callback_intro")
        events = reset(
            ("callback_question", "intake_stopped", "intake_question_check", *MANAGE_SLOTS), tracker
        )
        if slot_text(tracker, "intake_consent") == "nee":
            events.append(SlotSet("intake_consent", None))
        return events


class ActionCallbackSubmit(Action):
    """After the callback form: store the request, then confirm it."""

    def name(self) -> str:
        return "action_callback_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if said_why_it_stopped(dispatcher, tracker):
            return reset()
        try:
            draft, fields = await fields_of(tracker)
            if not draft.get("consent_at"):
                dispatcher.utter_message(response="utter_intake_expired")
                return reset()
            values = {**fields.__dict__, "description": draft.get("callback_question")}
            outcome = await run_in_store(
                call_back, LeadFields(**values), sender_id(tracker), client_key(tracker)
            )
        except StoreProblem:
            unavailable(dispatcher)
            return reset()
        if isinstance(outcome, intake.CallbackRequested):
            response_time = get_settings().callback_response_time
            if response_time:
                dispatcher.utter_message(
                    response="utter_callback_done_within",
                    reference=outcome.reference,
                    callback_response_time=response_time,
                )
            else:
                dispatcher.utter_message(
                    response="utter_callback_done", reference=outcome.reference
                )
        elif isinstance(outcome, intake.LimitReached):
            dispatcher.utter_message(response="utter_intake_limit", contact_route=contact_route())
        elif isinstance(outcome, InvalidFields):
            dispatcher.utter_message(response="utter_intake_expired")
        return reset()
