"""Brute-force protection for the status lookup.

Failed checks are counted within a sliding window per reference (across all conversations),
per conversation and per client (the keyed hash of the client address that our channels put in
the message metadata). At the limit of a scope, further checks in that scope are refused until
enough old failures age out.

Counting is atomic. A check first *reserves* its attempt: under a lock per key it counts the
failures in the window and, if no scope is locked, writes an attempt row and commits, before the
(slow, deliberately expensive) argon2 verification runs. A right code deletes the row again; a
wrong one leaves it as the failure. So however many checks arrive at once, at most
``lockout_max_attempts`` verifications run per reference and window.

The per-key lock is ``pg_advisory_xact_lock`` on PostgreSQL. SQLite has one writer at a time:
the reservation's INSERT is the transaction's first statement, so it waits for the write lock
and then reads the latest committed state.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    func,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from kvo.models import FailedAttempt
from kvo.settings import Settings, get_settings
from kvo.timeutil import ensure_utc

# Reference key stored for input without a recognisable reference.
UNPARSEABLE_REFERENCE_KEY = ""
# Old rows removed per reservation; keeps the table small without a cron job.
_PURGE_BATCH = 1000
# What our channels send: 32 hex characters of an HMAC of the client address.
_CLIENT_KEY_RE = re.compile(r"[0-9a-f]{32}")

Scope = Literal["reference", "conversation", "client"]


def conversation_key(conversation_id: str) -> str:
    """SHA-256 hex of the conversation id: lets us count per chat without keeping the id."""
    return hashlib.sha256((conversation_id or "").encode("utf-8")).hexdigest()


def normalize_client_key(value: object) -> str | None:
    """The client key from message metadata, or None when it is missing or not ours."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if _CLIENT_KEY_RE.fullmatch(value) else None


@dataclass(frozen=True)
class _Counter:
    scope: Scope
    column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]
    key: str
    limit: int


def _counters(
    reference_key: str, conversation_id: str, client_key: str | None, settings: Settings
) -> list[_Counter]:
    # Unparseable input shares the reference key "", so it is limited per conversation and
    # client only: strangers typing nonsense cannot lock each other out.
    counters = [
        _Counter(
            "conversation",
            FailedAttempt.conversation_key,
            conversation_key(conversation_id),
            settings.lockout_max_attempts,
        )
    ]
    if reference_key != UNPARSEABLE_REFERENCE_KEY:
        counters.append(
            _Counter(
                "reference",
                FailedAttempt.reference_key,
                reference_key,
                settings.lockout_max_attempts,
            )
        )
    client = normalize_client_key(client_key)
    if client is not None:
        counters.append(
            _Counter(
                "client", FailedAttempt.client_key, client, settings.lockout_client_max_attempts
            )
        )
    return counters


def window(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.lockout_window_minutes)


def _recent_failures(
    index: int, counter: _Counter, cutoff: datetime, exclude_id: int | None
) -> Select[tuple[int, datetime]]:
    # The newest `limit` failures for one key inside the window (index range scan).
    conditions: list[ColumnElement[bool]] = [
        counter.column == counter.key,
        FailedAttempt.attempted_at > cutoff,
    ]
    if exclude_id is not None:
        conditions.append(FailedAttempt.id != exclude_id)
    newest = (
        select(FailedAttempt.attempted_at)
        .where(*conditions)
        .order_by(FailedAttempt.attempted_at.desc())
        .limit(counter.limit)
        .subquery()
    )
    return select(literal_column(str(index)).label("scope"), newest.c.attempted_at)


def _locked_until(
    session: Session,
    counters: list[_Counter],
    now: datetime,
    settings: Settings,
    exclude_id: int | None = None,
) -> datetime | None:
    length = window(settings)
    queries = [
        _recent_failures(index, counter, now - length, exclude_id)
        for index, counter in enumerate(counters)
    ]
    # One round trip for all counters.
    statement = union_all(*queries) if len(queries) > 1 else queries[0]
    failures: dict[int, list[datetime]] = {}
    for index, attempted_at in session.execute(statement):
        failures.setdefault(index, []).append(attempted_at)
    # With `limit` failures in the window the lock lifts when the oldest of the newest
    # `limit` ages out (normally exactly the oldest one counted: locked checks add none).
    locks = [
        min(times) + length
        for index, times in failures.items()
        if len(times) >= counters[index].limit
    ]
    return max(locks) if locks else None


def locked_until(
    session: Session,
    reference_key: str,
    conversation_id: str,
    now: datetime | None = None,
    settings: Settings | None = None,
    *,
    client_key: str | None = None,
) -> datetime | None:
    """When the lock on this reference, conversation or client lifts (UTC), or None."""
    settings = settings or get_settings()
    counters = _counters(reference_key, conversation_id, client_key, settings)
    return _locked_until(session, counters, ensure_utc(now), settings)


def _advisory_lock_id(counter: _Counter) -> int:
    digest = hashlib.sha256(f"kvo-lockout:{counter.scope}:{counter.key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _serialise(session: Session, counters: list[_Counter]) -> None:
    """Make concurrent reservations for the same keys run one after another.

    Sorted, so two checks sharing two keys cannot wait for each other in a circle.
    """
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the INSERT in reserve_attempt takes the database's write lock.
    _skip_commit_flush(session)
    for lock_id in sorted({_advisory_lock_id(counter) for counter in counters}):
        session.execute(select(func.pg_advisory_xact_lock(lock_id)))


def _skip_commit_flush(session: Session) -> None:
    # A reservation lost in a database crash only forgets one attempt (or, for a release,
    # counts one too many); not waiting for the WAL flush halves the cost of the commit.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _purge_expired(session: Session, now: datetime, settings: Settings) -> None:
    # SKIP LOCKED: concurrent purges on PostgreSQL never wait on (or deadlock over)
    # each other's rows; SQLite ignores the clause.
    expired = (
        select(FailedAttempt.id)
        .where(FailedAttempt.attempted_at <= now - window(settings))
        .limit(_PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(FailedAttempt).where(FailedAttempt.id.in_(expired)))


@dataclass(frozen=True)
class Reserved:
    """An attempt may go ahead; its row counts as a failure until ``release_attempt``."""

    attempt_id: int


@dataclass(frozen=True)
class Refused:
    until: datetime  # aware UTC


def reserve_attempt(
    session: Session,
    reference_key: str,
    conversation_id: str,
    now: datetime | None = None,
    settings: Settings | None = None,
    *,
    client_key: str | None = None,
) -> Reserved | Refused:
    """Atomically check the lockout and, when nothing is locked, record the attempt.

    Commits the session (the reservation must be visible to concurrent checks before the slow
    verification starts): call it with a session that holds no half-done work of the caller.
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    counters = _counters(reference_key, conversation_id, client_key, settings)
    _serialise(session, counters)
    attempt = FailedAttempt(
        reference_key=reference_key,
        conversation_key=conversation_key(conversation_id),
        client_key=normalize_client_key(client_key),
        attempted_at=now,
    )
    session.add(attempt)
    session.flush()
    until = _locked_until(session, counters, now, settings, exclude_id=attempt.id)
    if until is not None:
        # Delete rather than roll back: the caller's own earlier work stays as it was.
        session.delete(attempt)
        session.commit()
        return Refused(until=until)
    _purge_expired(session, now, settings)
    session.commit()
    return Reserved(attempt_id=attempt.id)


def release_attempt(session: Session, reservation: Reserved) -> None:
    """The code was right: the attempt is not a failure. Flushes; the caller commits."""
    _skip_commit_flush(session)
    session.execute(delete(FailedAttempt).where(FailedAttempt.id == reservation.attempt_id))
