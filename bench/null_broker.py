"""An event broker that drops every event: the benchmark's way to tell Rasa's own cost of having
a broker (the tracker store fetches the previous tracker to find the new events on every save)
from the cost of writing them. Loaded by the engine as `bench.null_broker.NullEventBroker`."""

from __future__ import annotations

from typing import Any

from rasa.core.brokers.broker import EventBroker


class NullEventBroker(EventBroker):
    @classmethod
    async def from_endpoint_config(
        cls, broker_config: Any, event_loop: Any = None
    ) -> NullEventBroker:
        return cls()

    def publish(self, event: dict[str, Any]) -> None:
        return None
