"""Human handoff and contact details: how to reach a person at PVO, from the settings."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.contact import contact_response
from actions.tracker_input import latest_intent


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        # utter_handoff carries its own "Laat mij terugbellen" button; utter_contact none.
        response, variables = contact_response(latest_intent(tracker))
        dispatcher.utter_message(response=response, **variables)
        return []
