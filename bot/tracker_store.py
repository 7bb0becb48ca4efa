"""Tracker store that redacts sensitive content before anything is stored or streamed.

Configured in the endpoint files by module path, wrapping Rasa's own store:

    tracker_store:
      type: bot.tracker_store.RedactingTrackerStore
      sensitive_slots: [access_code, ...]
      wrapped:                 # optional; in-memory when left out
        type: SQL
        dialect: postgresql
        ...

`save` hands the wrapped store a copy of the tracker with the rules of bot/redaction.py applied,
then streams the new events of that copy to the event broker, so the broker only ever sees the
redacted copy. `save` never raises: Rasa's fail-safe wrapper would otherwise save the raw tracker
in memory and stream it. The PostgreSQL store ends the process (sys.exit) on some driver errors;
that is caught here too, so one odd request cannot stop the server.

With the in-memory store (`make run`), only the `max_conversations` most recently saved
conversations are kept (default 2,000; about 65 KB each for the benchmark's conversations), so a
stream of new conversations cannot grow the engine's memory without end; the SQL stores keep
everything until the retention purge. The events of the most recently saved conversations are
also kept as objects, so that fetching one rebuilds the tracker from them rather than decoding
its JSON and looking up every event's class again; the JSON stays the stored truth.

Why the broker is ours and not the wrapped store's: to find the new events, Rasa's stores load
and rebuild the stored tracker on every save. Rasa fetches the tracker through `retrieve` before
it handles a message, so this store remembers how many events it had: the events before that
point came from the store, are redacted already, and are neither redacted nor streamed again.
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore, create_tracker_store
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, Restarted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions
from rasa.utils.endpoints import EndpointConfig

from bot.redaction import MARKER, REQUESTED_SLOT, redact_events, words_like_codes

logger = logging.getLogger(__name__)

# How many conversations' "next answer is sensitive" flags and stored lengths are remembered.
_MAX_FLAGS = 10_000
# How many in-memory conversations keep their events as objects (about 100 KB each).
_MAX_KEPT_EVENTS = 500
DEFAULT_MAX_CONVERSATIONS = 2_000


def _remember(memory: OrderedDict[str, Any], key: str, value: Any, limit: int = _MAX_FLAGS) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > limit:
        memory.popitem(last=False)


def _requested_before(events: list[Event]) -> Any:
    """The question open after `events` (requested_slot), read backwards to its last change."""
    for event in reversed(events):
        if isinstance(event, SlotSet) and event.key == REQUESTED_SLOT:
            return event.value
        if isinstance(event, SessionStarted | Restarted):
            return None
    return None


def _rebuilt(event: Event, parameters: dict[str, Any]) -> Event:
    """`event` again from its redacted parameters (its own class: no lookup by name)."""
    rebuilt = type(event)._from_parameters(parameters)
    return rebuilt if isinstance(rebuilt, Event) else Event.from_parameters(parameters)


class RedactingTrackerStore(TrackerStore):
    def __init__(
        self,
        domain: Domain | None = None,
        event_broker: Any = None,
        sensitive_slots: Iterable[str] | None = None,
        wrapped: dict[str, Any] | None = None,
        max_conversations: int = DEFAULT_MAX_CONVERSATIONS,
        host: Any = None,
        **_: Any,
    ) -> None:
        self.sensitive_slots = frozenset(str(s) for s in (sensitive_slots or ()))
        self.max_conversations = max(1, int(max_conversations))
        # The wrapped store gets no broker: this store streams (see the module docstring).
        if wrapped:
            config = EndpointConfig.from_dict(dict(wrapped))
            self.inner: TrackerStore = create_tracker_store(config, domain, None)
        else:
            self.inner = InMemoryTrackerStore(domain, None)
        self._sensitive_next: OrderedDict[str, bool] = OrderedDict()
        self._stored_lengths: OrderedDict[str, int] = OrderedDict()
        # sender -> (the stored JSON string, the events it holds); in-memory store only.
        self._kept_events: OrderedDict[str, tuple[Any, list[Event]]] = OrderedDict()
        words_like_codes()  # loaded at start-up rather than in a visitor's first turn
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

    def redacted(
        self, tracker: DialogueStateTracker, stored: int = 0
    ) -> tuple[DialogueStateTracker, list[dict[str, Any]]]:
        """A copy of `tracker` without sensitive content (the tracker itself when none), and the
        events added after the first `stored`, serialised as redacted (what the broker gets).

        The first `stored` events came from this store and are left as they are. The copy shares
        everything but its events and slots with `tracker`: the wrapped stores read only those.
        """
        events = list(tracker.events)
        stored = min(stored, len(events))
        original = [event.as_dict() for event in events[stored:]]
        cleaned = redact_events(
            original, self.sensitive_slots, requested=_requested_before(events[:stored])
        )
        if cleaned == original:
            return tracker, original
        for index, (before, after) in enumerate(zip(original, cleaned, strict=True), stored):
            if before != after:
                events[index] = _rebuilt(events[index], after)
        view = copy.copy(tracker)
        view.events = deque(events, maxlen=tracker.events.maxlen)
        view.slots = dict(tracker.slots)
        for name in self.sensitive_slots & view.slots.keys():
            if view.slots[name].value is not None:
                view.slots[name] = copy.copy(view.slots[name])
                view.slots[name].value = MARKER
        return view, cleaned

    def _remember_sensitive_next(self, tracker: DialogueStateTracker) -> None:
        requested = tracker.get_slot(REQUESTED_SLOT)
        flag = isinstance(requested, str) and requested in self.sensitive_slots
        _remember(self._sensitive_next, tracker.sender_id, flag)

    def sensitive_next(self, sender_id: str) -> bool:
        """Whether the bot's last turn in this conversation asked for a sensitive slot."""
        return self._sensitive_next.get(sender_id, False)

    async def _stored_length(self, sender_id: str) -> int:
        known = self._stored_lengths.get(sender_id)
        if known is not None:
            return known
        stored = await self.inner.retrieve(sender_id)
        return len(stored.events) if stored else 0

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            self._remember_sensitive_next(tracker)
            stored = await self._stored_length(tracker.sender_id)
            view, added = self.redacted(tracker, stored)
            await self.inner.save(view)
            _remember(self._stored_lengths, tracker.sender_id, len(view.events))
            self._keep_events(view)
            self._forget_oldest_in_memory(tracker.sender_id)
            if self.event_broker is not None:
                for event in added:
                    self.event_broker.publish({"sender_id": tracker.sender_id, **event})
        except (Exception, SystemExit) as error:
            # No tracker content in the log line: only what failed.
            logger.error("Conversation not saved: %s in the tracker store", type(error).__name__)

    def _keep_events(self, view: DialogueStateTracker) -> None:
        if isinstance(self.inner, InMemoryTrackerStore):
            stored = self.inner.store.get(view.sender_id)
            _remember(
                self._kept_events, view.sender_id, (stored, list(view.events)), _MAX_KEPT_EVENTS
            )

    def _forget_oldest_in_memory(self, sender_id: str) -> None:
        """Marks `sender_id` as the newest in-memory conversation and drops the oldest over the
        limit (a dict keeps insertion order: re-inserting moves a conversation to the end)."""
        if not isinstance(self.inner, InMemoryTrackerStore):
            return
        stored = self.inner.store
        stored[sender_id] = stored.pop(sender_id)
        while len(stored) > self.max_conversations:
            oldest = next(iter(stored))
            del stored[oldest]
            self._kept_events.pop(oldest, None)
            self._stored_lengths.pop(oldest, None)

    def _from_kept_events(self, sender_id: str) -> DialogueStateTracker | None:
        """The last session as the in-memory store would rebuild it, or None when not kept."""
        kept = self._kept_events.get(sender_id)
        if kept is None or not isinstance(self.inner, InMemoryTrackerStore):
            return None
        stored, events = kept
        if self.inner.store.get(sender_id) is not stored:
            return None  # stored since by other means: the JSON decides
        tracker = self.inner.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue(sender_id, list(events)))
        sessions = get_trackers_for_conversation_sessions(tracker)
        return tracker if len(sessions) <= 1 else sessions[-1]

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            tracker = self._from_kept_events(sender_id)
            if tracker is None:
                tracker = await self.inner.retrieve(sender_id)
        except SystemExit as error:
            raise RuntimeError("tracker store failed") from error
        _remember(self._stored_lengths, sender_id, len(tracker.events) if tracker else 0)
        return tracker

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
