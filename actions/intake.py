"""Intake: for now the route to plan an intake with a PVO process facilitator."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.contact import contact_route


class ActionBookIntake(Action):
    def name(self) -> str:
        return "action_book_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text=(
                "Een procesbegeleider van PVO bespreekt graag met u of het KVO bij uw gebied past en"
                f" hoe u kunt beginnen. U plant een intake {contact_route()}. Noem daarbij het gebied"
                " en de gemeente, dan kan PVO u snel verder helpen."
            )
        )
        return []
