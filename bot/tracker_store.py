"""Tracker store that redacts sensitive content before anything is stored or streamed.

Configured in the endpoint files by module path, wrapping Rasa's own store:

    tracker_store:
      type: bot.tracker_store.RedactingTrackerStore
      sensitive_slots: [access_code, ...]
      wrapped:                 # optional; in-memory when left out
        type: SQL
        dialect: postgresql
        ...

`save` hands the wrapped store a copy of the tracker with the rules of bot/redaction.py applied;
the wrapped store streams new events to the event broker from its `save`, so the broker only
ever sees the redacted copy. `save` never raises: Rasa's fail-safe wrapper would otherwise save
the raw tracker in memory and stream it. The PostgreSQL store ends the process (sys.exit) on some
driver errors; that is caught here too, so one odd request cannot stop the server.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.redaction import REQUESTED_SLOT, redact_events

logger = logging.getLogger(__name__)

# How many conversations' "next answer is sensitive" flags are remembered for the channels.
_MAX_FLAGS = 10_000


class RedactingTrackerStore(TrackerStore):
    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: Any = None,
        sensitive_slots: Iterable[str] | None = None,
        wrapped: dict[str, Any] | None = None,
        host: Any = None,
        **_: Any,
    ) -> None:
        self.sensitive_slots = frozenset(str(s) for s in (sensitive_slots or ()))
        if wrapped:
            config = EndpointConfig.from_dict(dict(wrapped))
            self.inner: TrackerStore = create_tracker_store(config, domain, event_broker)
        else:
            self.inner = InMemoryTrackerStore(domain, event_broker)
        self._sensitive_next: OrderedDict[str, bool] = OrderedDict()
        super().__init__(domain, event_broker)

    @property
    def domain(self) -> Domain:
        return self.inner.domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        # Rasa sets the domain after loading the model; the wrapped store needs it to rebuild
        # trackers. Called once from TrackerStore.__init__ before `inner` may exist.
        if "inner" in self.__dict__:
            self.inner.domain = domain or Domain.empty()

    def redacted(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """A copy of `tracker` without sensitive content (the tracker itself when none)."""
        original = [event.as_dict() for event in tracker.events]
        cleaned = redact_events(original, self.sensitive_slots)
        if cleaned == original:
            return tracker
        return DialogueStateTracker.from_events(
            tracker.sender_id,
            [Event.from_parameters(event) for event in cleaned],
            slots=self.domain.slots,
            max_event_history=tracker._max_event_history,
        )

    def _remember_sensitive_next(self, tracker: DialogueStateTracker) -> None:
        requested = tracker.get_slot(REQUESTED_SLOT)
        flag = isinstance(requested, str) and requested in self.sensitive_slots
        self._sensitive_next[tracker.sender_id] = flag
        self._sensitive_next.move_to_end(tracker.sender_id)
        while len(self._sensitive_next) > _MAX_FLAGS:
            self._sensitive_next.popitem(last=False)

    def sensitive_next(self, sender_id: str) -> bool:
        """Whether the bot's last turn in this conversation asked for a sensitive slot."""
        return self._sensitive_next.get(sender_id, False)

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            self._remember_sensitive_next(tracker)
            await self.inner.save(self.redacted(tracker))
        except (Exception, SystemExit) as error:
            # No tracker content in the log line: only what failed.
            logger.error("Conversation not saved: %s in the tracker store", type(error).__name__)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await self.inner.retrieve(sender_id)
        except SystemExit as error:
            raise RuntimeError("tracker store failed") from error

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        try:
            return await self.inner.retrieve_full_tracker(conversation_id)
        except SystemExit as error:
            raise RuntimeError("tracker store failed") from error

    async def keys(self) -> Iterable[str]:
        return await self.inner.keys()


def find_redacting_store(store: Any) -> RedactingTrackerStore | None:
    """Our store inside Rasa's wrappers (fail-safe, awaitable), or None when Rasa uses another."""
    for _ in range(5):
        if isinstance(store, RedactingTrackerStore):
            return store
        store = getattr(store, "_tracker_store", None)
        if store is None:
            return None
    return None
