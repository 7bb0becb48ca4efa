"""Human handoff: tells the visitor how to reach a person at PVO, with office hours, and offers
to pass on a callback request (the intake's callback form)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.contact import handoff_message


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text=handoff_message(),
            buttons=[{"title": "Laat mij terugbellen", "payload": "/request_callback"}],
        )
        return []
