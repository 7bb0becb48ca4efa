"""Writes conversations with Rasa's own SQL tracker store and SQL event broker (engine Python).

Run by tests/kvo/test_kvo_retention.py with .venv-rasa/bin/python, so the rows have exactly the
shape Rasa 3.6 gives them. Reads a JSON job from stdin:

    {"tracker": {"dialect": ..., "host": ..., "port": ..., "db": ..., "username": ...},
     "broker": {...same keys...} or null,
     "conversations": [{"sender_id": "...", "timestamps": [epoch, ...]}, ...]}

Each timestamp becomes one turn: the user's message, the bot's answer and a slot event.
"""

import asyncio
import json
import sys


async def main() -> None:
    from rasa.core.brokers.sql import SQLEventBroker
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    job = json.load(sys.stdin)
    broker = SQLEventBroker(**job["broker"]) if job.get("broker") else None
    store = SQLTrackerStore(event_broker=broker, **job["tracker"])
    for conversation in job["conversations"]:
        events = []
        for moment in conversation["timestamps"]:
            events += [
                ActionExecuted("action_listen", timestamp=moment),
                UserUttered(
                    "status KVO-2024-0031",
                    intent={"name": "check_status", "confidence": 0.9},
                    timestamp=moment,
                ),
                SlotSet("reference_code", "KVO-2024-0031", timestamp=moment),
                BotUttered("Wat is de toegangscode?", timestamp=moment),
            ]
        tracker = DialogueStateTracker.from_events(conversation["sender_id"], events)
        await store.save(tracker)


if __name__ == "__main__":
    asyncio.run(main())
