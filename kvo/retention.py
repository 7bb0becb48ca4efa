"""Retention of conversations in Rasa's SQL tracker store and SQL event broker databases.

A conversation is everything stored under one sender id. It is purged as a whole once its
newest event is older than the retention period, so a conversation is never cut in half while
it is still going on (a sender id that stays active keeps its history until it falls silent).

- Tracker store (table ``events``: id, sender_id, type_name, timestamp, intent_name,
  action_name, data; ``timestamp`` is a float epoch): the age comes from ``timestamp``.
- Event broker (table ``events``: id, sender_id, data; ``data`` is the event as JSON): its
  rows of the sender ids purged from the tracker store go too, and so do sender ids whose
  newest event there (the JSON ``timestamp``) is older than the period, for set-ups that keep
  conversations in memory but stream events to SQL. Rows without a readable timestamp never
  make a sender id old on their own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    delete,
    exc,
    func,
    inspect,
    not_,
    select,
)

from kvo import visitor_questions
from kvo.db import normalize_database_url
from kvo.timeutil import ensure_utc

# Sender ids per DELETE statement: short transactions, bounded parameter lists.
BATCH = 500

_tracker_metadata = MetaData()
TRACKER_EVENTS = Table(
    "events",
    _tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
_broker_metadata = MetaData()
BROKER_EVENTS = Table(
    "events",
    _broker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("data", Text),
)


def store_engine(url: str, timeout_seconds: float = 30.0) -> Engine:
    """An engine for Rasa's database: no pragmas or session settings of ours are applied
    (the app's engine would switch an SQLite file to WAL and cap statements at 2 s)."""
    parsed = normalize_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args: dict[str, object] = {"timeout": timeout_seconds}
    else:
        connect_args = {"connect_timeout": max(1, math.ceil(timeout_seconds))}
    return create_engine(parsed, connect_args=connect_args, hide_parameters=True)


class NoEventsTable(LookupError):
    """The database has no ``events`` table: not a Rasa tracker store or event broker."""


@dataclass(frozen=True)
class StorePurge:
    conversations: int  # sender ids removed
    events: int  # rows removed


def cutoff_for(older_than_days: int, now: datetime | None = None) -> datetime:
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    return ensure_utc(now) - timedelta(days=older_than_days)


def _batches(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), BATCH):
        yield list(items[start : start + BATCH])


def has_events_table(url: str) -> bool:
    """Whether ``url`` holds Rasa's ``events`` table; an unreachable database counts as yes, so
    the purge that follows reports the outage instead of skipping it silently."""
    engine = store_engine(url, timeout_seconds=5.0)
    try:
        return inspect(engine).has_table("events")
    except (exc.OperationalError, exc.InterfaceError):
        return True
    finally:
        engine.dispose()


def _require_events_table(engine: Engine) -> None:
    if not inspect(engine).has_table("events"):
        raise NoEventsTable("events")


def purge_tracker_store(engine: Engine, cutoff: datetime) -> tuple[StorePurge, list[str]]:
    """Delete the conversations whose newest event is older than ``cutoff``.

    Returns the counts and the sender ids purged (for the event broker).
    """
    _require_events_table(engine)
    epoch = ensure_utc(cutoff).timestamp()
    events = TRACKER_EVENTS
    with engine.connect() as connection:
        old = list(
            connection.scalars(
                select(events.c.sender_id)
                .group_by(events.c.sender_id)
                .having(func.max(events.c.timestamp) < epoch)
            )
        )
    purged: list[str] = []
    removed = 0
    for batch in _batches(old):
        # Checked again in the DELETE itself: a visitor who came back since the SELECT above
        # keeps the conversation.
        still_active = select(events.c.sender_id).where(
            events.c.sender_id.in_(batch), events.c.timestamp >= epoch
        )
        with engine.begin() as connection:
            active = set(connection.scalars(still_active.distinct()))
            result = connection.execute(
                delete(events).where(
                    and_(events.c.sender_id.in_(batch), not_(events.c.sender_id.in_(still_active)))
                )
            )
        removed += result.rowcount or 0
        purged.extend(sender for sender in batch if sender not in active)
    return StorePurge(conversations=len(purged), events=removed), purged


def _event_time(data: str | None) -> float | None:
    try:
        value = json.loads(data or "").get("timestamp")
    except (ValueError, AttributeError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _old_broker_senders(engine: Engine, epoch: float) -> set[str]:
    newest: dict[str, float] = {}
    with engine.connect() as connection:
        rows = connection.execution_options(yield_per=1000).execute(
            select(BROKER_EVENTS.c.sender_id, BROKER_EVENTS.c.data)
        )
        for sender_id, data in rows:
            if sender_id is None:
                continue
            moment = _event_time(data)
            if moment is not None and moment > newest.get(sender_id, -math.inf):
                newest[sender_id] = moment
    return {sender for sender, moment in newest.items() if moment < epoch}


def purge_event_broker(engine: Engine, cutoff: datetime, sender_ids: Sequence[str]) -> StorePurge:
    """Delete the broker's rows of ``sender_ids`` and of conversations older than ``cutoff``."""
    _require_events_table(engine)
    targets = sorted(set(sender_ids) | _old_broker_senders(engine, ensure_utc(cutoff).timestamp()))
    removed = 0
    conversations = 0
    for batch in _batches(targets):
        with engine.begin() as connection:
            present = set(
                connection.scalars(
                    select(BROKER_EVENTS.c.sender_id)
                    .where(BROKER_EVENTS.c.sender_id.in_(batch))
                    .distinct()
                )
            )
            result = connection.execute(
                delete(BROKER_EVENTS).where(BROKER_EVENTS.c.sender_id.in_(batch))
            )
        removed += result.rowcount or 0
        conversations += len(present)
    return StorePurge(conversations=conversations, events=removed)


def purge_conversation(engine: Engine, sender_id: str) -> StorePurge:
    """Delete one conversation (all rows of ``sender_id``), e.g. on an erasure request.

    Works on the tracker store and the event broker alike: both key rows by ``sender_id``.
    """
    _require_events_table(engine)
    with engine.begin() as connection:
        result = connection.execute(
            delete(BROKER_EVENTS).where(BROKER_EVENTS.c.sender_id == sender_id)
        )
    removed = result.rowcount or 0
    return StorePurge(conversations=1 if removed else 0, events=removed)


def purge_conversation_everywhere(
    conversation_id: str, tracker_db_url: str, events_db_url: str
) -> bool | None:
    """Remove one conversation from the tracker store and the event broker database (Rasa's
    stock table and our broker's visitor_events, whose weekly counts stay).

    True when a configured store held it, False when none did, None when no store is
    configured (in-memory tracker store: nothing outlives the Rasa server).
    """
    urls = [url for url in (tracker_db_url, events_db_url) if url]
    visitor_url = events_db_url or (
        str(visitor_questions.DEFAULT_EVENTS_DB)
        if visitor_questions.DEFAULT_EVENTS_DB.exists()
        else ""
    )
    if not urls and not visitor_url:
        return None
    found = False
    for url in urls:
        engine = store_engine(url)
        try:
            found = purge_conversation(engine, conversation_id).events > 0 or found
        except NoEventsTable:
            continue  # nothing stored there yet
        finally:
            engine.dispose()
    if visitor_url:
        engine = visitor_questions.events_engine(
            events_db_url or f"sqlite:///{visitor_url}", create=False
        )
        try:
            if visitor_questions.has_visitor_events(engine):
                erased = visitor_questions.purge_conversation(engine, conversation_id)
                found = erased.events > 0 or erased.feedback > 0 or found
        finally:
            engine.dispose()
    return found
