"""One visitor message through the engine, with the guarantees our channels give.

Shared by the REST and socket.io channels (bot/channels.py):

- always a reply: a turn that produced no bot message, failed, or has not finished after the
  reply deadline (3 s) is answered with `utter_service_unavailable`, which names the contact
  route. A late turn finishes in the background; its output is dropped, not sent afterwards;
- bounded input: a message longer than PVO_MAX_MESSAGE_CHARS gets `utter_message_too_long`
  and never reaches the NLU;
- a per-client rate limit answered with `utter_rate_limited`; refused messages are logged at most
  once a minute per reason, with a count, so a flood cannot fill the log;
- long messages have a lane of their own: those over LONG_MESSAGE_CHARS start at the pace of
  PVO_LONG_MESSAGE_RATE, engine-wide (in bursts of LONG_MESSAGE_BURST). One that would wait more
  than LONG_MESSAGE_WAIT_SECONDS for its place gets `utter_long_message_busy` (please ask it
  shorter). The engine runs turns on one core and a long message costs more than a short one, the
  more so in a long conversation: without the lane, a few senders of maximum-size messages slow
  down every other visitor. Short messages never wait;
- `client_key` in the message metadata: a salted hash of the client address, never the address.

Log lines name what happened, never the message, the sender id or the reply.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import re
import time
from collections import OrderedDict
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.trackers import DialogueStateTracker

from bot.engine_settings import EngineSettings
from bot.tracker_store import find_redacting_store

logger = logging.getLogger(__name__)

SENDER_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-\[\]]{1,128}$")
TOO_LONG = "utter_message_too_long"
RATE_LIMITED = "utter_rate_limited"
UNAVAILABLE = "utter_service_unavailable"
LONG_MESSAGE_BUSY = "utter_long_message_busy"
# Last resort when even the domain response cannot be rendered (e.g. no model loaded yet).
FALLBACK_TEXT = (
    "Het spijt me, door een storing kan ik u nu niet helpen. Probeert u het later nog eens, of"
    " neem contact op met PVO Brabant-Zeeland via de contactpagina op www.pvo-brabant-zeeland.nl."
)
# How many client keys a pacer remembers (the least recently seen are forgotten first).
_MAX_BUCKETS = 50_000
# Ordinary questions are far shorter; the channel's limit (PVO_MAX_MESSAGE_CHARS) is 1,000.
LONG_MESSAGE_CHARS = 300
LONG_MESSAGE_BURST = 3
LONG_MESSAGE_WAIT_SECONDS = 1.0
REFUSAL_LOG_INTERVAL_SECONDS = 60.0
RATE_LIMIT_REASON = "client over the rate limit"
LENGTH_REASON = "over the length limit"
LONG_MESSAGE_REASON = "long message while the long-message lane is full"


class Pacer:
    """Start times for at most `count` messages per `period` seconds per key, `burst` at once.

    The generic cell rate algorithm (a token bucket of `burst` tokens, told as times): each
    admitted message books the next free start time of its key, so waiting messages start in
    arrival order without a lock and without polling. The most recently used keys are kept.
    """

    def __init__(self, count: int, period: float, burst: int) -> None:
        self.interval = period / count
        self.tolerance = (max(1, burst) - 1) * self.interval
        self._next_due: OrderedDict[str, float] = OrderedDict()

    def book(self, at_most: float, key: str = "", now: float | None = None) -> float | None:
        """Seconds until this message may start, or None (nothing booked) if over `at_most`."""
        now = time.monotonic() if now is None else now
        due = max(self._next_due.get(key, now), now)
        wait = max(0.0, due - self.tolerance - now)
        admitted = wait <= at_most
        if admitted:
            self._next_due[key] = due + self.interval
        self._next_due.move_to_end(key)
        while len(self._next_due) > _MAX_BUCKETS:
            self._next_due.popitem(last=False)
        return wait if admitted else None


class RateLimiter(Pacer):
    """`count` messages per `period` seconds per client key, bursts of `count` included; the
    excess is refused rather than made to wait."""

    def __init__(self, count: int, period: float) -> None:
        super().__init__(count, period, burst=count)

    def allow(self, key: str, now: float | None = None) -> bool:
        return self.book(0.0, key, now) is not None


@functools.cache
def long_message_lane(count: int, period: float) -> Pacer:
    """The engine-wide pacer for long messages (one for the REST and socket.io channels)."""
    return Pacer(count, period, LONG_MESSAGE_BURST)


def valid_sender(sender: object) -> bool:
    return isinstance(sender, str) and SENDER_PATTERN.fullmatch(sender) is not None


def client_key(secret: str, address: str | None) -> str:
    """A stable, salted hash of the client address; the address itself is never kept."""
    digest = hmac.new(secret.encode(), (address or "unknown").encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


class RefusalLog:
    """Log lines for refused messages: at most one per reason every `interval` seconds.

    One client flooding the engine past its rate limit (or with over-long messages) would
    otherwise write a line per message; the next line says how many were not logged.
    """

    def __init__(self, interval: float = REFUSAL_LOG_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self._logged_at: dict[str, float] = {}
        self._unlogged: dict[str, int] = {}

    def refused(self, reason: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        last = self._logged_at.get(reason)
        if last is not None and now - last < self.interval:
            self._unlogged[reason] = self._unlogged.get(reason, 0) + 1
            return
        self._logged_at[reason] = now
        unlogged = self._unlogged.pop(reason, 0)
        if unlogged:
            logger.info("Message refused: %s (and %d more not logged)", reason, unlogged)
        else:
            logger.info("Message refused: %s", reason)


class TopicCollector(CollectingOutputChannel):
    """Collects the bot's messages and marks FAQ answers with their topic ("faq/<topic>")."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        before = len(self.messages)
        action = message.get("utter_action")
        await super().send_response(recipient_id, dict(message))
        if isinstance(action, str) and action.startswith("utter_faq/"):
            for sent in self.messages[before:]:
                sent["topic"] = action.removeprefix("utter_")


class TurnRunner:
    """Runs turns for one channel; needs the Sanic app (for the loaded agent) once serving."""

    def __init__(self, settings: EngineSettings, channel_name: str) -> None:
        self.settings = settings
        self.channel_name = channel_name
        self.limiter = RateLimiter(*settings.rate_limit)
        self.refusals = RefusalLog()
        self.long_messages = long_message_lane(*settings.long_message_rate)
        self.app: Any = None

    @property
    def agent(self) -> Any:
        return getattr(getattr(self.app, "ctx", None), "agent", None)

    async def response(self, name: str, sender_id: str) -> list[dict[str, Any]]:
        """The domain response `name` as channel messages (with the contact placeholders filled)."""
        agent = self.agent
        try:
            tracker = DialogueStateTracker(sender_id, agent.domain.slots)
            generated = await agent.nlg.generate(name, tracker, self.channel_name)
        except Exception as error:
            logger.error("Response %s not rendered: %s", name, type(error).__name__)
            generated = None
        text = (generated or {}).get("text") or FALLBACK_TEXT
        # `notice` lets clients and the benchmark tell these answers from the conversation's own.
        message: dict[str, Any] = {"recipient_id": sender_id, "text": text, "notice": name}
        if generated and generated.get("buttons"):
            message["buttons"] = generated["buttons"]
        return [message]

    def sensitive_next(self, sender_id: str) -> bool:
        agent = self.agent
        store = find_redacting_store(getattr(agent, "tracker_store", None))
        return store is not None and store.sensitive_next(sender_id)

    async def run(
        self,
        on_new_message: Any,
        text: str,
        sender_id: str,
        address: str | None,
        metadata: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The bot's reply to one message: never empty, within the reply deadline."""
        key = client_key(self.settings.session_secret, address)
        if not self.limiter.allow(key):
            self.refusals.refused(RATE_LIMIT_REASON)
            return await self.response(RATE_LIMITED, sender_id)
        if len(text) > self.settings.max_message_chars:
            self.refusals.refused(LENGTH_REASON)
            return await self.response(TOO_LONG, sender_id)

        waited = 0.0
        if len(text) > LONG_MESSAGE_CHARS:
            booked = self.long_messages.book(LONG_MESSAGE_WAIT_SECONDS)
            if booked is None:
                self.refusals.refused(LONG_MESSAGE_REASON)
                return await self.response(LONG_MESSAGE_BUSY, sender_id)
            if booked > 0:
                await asyncio.sleep(booked)
                waited = booked

        collector = TopicCollector()
        message = UserMessage(
            text,
            collector,
            sender_id,
            input_channel=self.channel_name,
            metadata={**(metadata or {}), "client_key": key},
        )
        task = asyncio.ensure_future(on_new_message(message))
        deadline = max(0.1, self.settings.reply_deadline_seconds - waited)
        done, _ = await asyncio.wait({task}, timeout=deadline)
        if task not in done:
            logger.warning("Turn not finished within the reply deadline; answered with a notice")
            task.add_done_callback(_forget)
            return await self.response(UNAVAILABLE, sender_id)
        failure = task.exception() if not task.cancelled() else asyncio.CancelledError()
        if failure is not None:
            logger.error("Turn failed: %s", type(failure).__name__)
            return await self.response(UNAVAILABLE, sender_id)
        if not collector.messages:
            logger.warning("Turn produced no bot message; answered with a notice")
            return await self.response(UNAVAILABLE, sender_id)
        return collector.messages


def _forget(task: asyncio.Future) -> None:
    """Collect the late turn's outcome so asyncio does not log it (with its traceback)."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        logger.error("Late turn failed: %s", type(error).__name__)
