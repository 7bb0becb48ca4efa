"""Brute-force protection for the status lookup.

Failed checks are counted per reference (across all conversations) and per
conversation within a sliding window. At ``lockout_max_attempts`` failures in
the window, further checks are refused until enough old failures age out.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, literal_column, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, Session

from kvo.models import FailedAttempt
from kvo.settings import Settings, get_settings
from kvo.timeutil import ensure_utc

# Reference key stored for input without a recognisable reference.
UNPARSEABLE_REFERENCE_KEY = ""
# Old rows removed per failed check; keeps the table small without a cron job.
_PURGE_BATCH = 1000


def conversation_key(conversation_id: str) -> str:
    """SHA-256 hex of the conversation id: lets us count per chat without keeping the id."""
    return hashlib.sha256((conversation_id or "").encode("utf-8")).hexdigest()


def _window(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.lockout_window_minutes)


_BY_CONVERSATION, _BY_REFERENCE = 1, 2


def _recent_failures(
    scope: int, column: InstrumentedAttribute[str], key: str, cutoff: datetime, limit: int
) -> Select[tuple[int, datetime]]:
    # The newest `limit` failures for one key inside the window (index range scan).
    newest = (
        select(FailedAttempt.attempted_at)
        .where(column == key, FailedAttempt.attempted_at > cutoff)
        .order_by(FailedAttempt.attempted_at.desc())
        .limit(limit)
        .subquery()
    )
    return select(literal_column(str(scope)).label("scope"), newest.c.attempted_at)


def locked_until(
    session: Session,
    reference_key: str,
    conversation_id: str,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> datetime | None:
    """When the lock on this reference or conversation lifts (UTC), or None if not locked.

    Unparseable input shares the key "" and is only limited per conversation,
    so strangers typing nonsense cannot lock each other out.
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    window, limit = _window(settings), settings.lockout_max_attempts
    cutoff = now - window
    queries = [
        _recent_failures(
            _BY_CONVERSATION,
            FailedAttempt.conversation_key,
            conversation_key(conversation_id),
            cutoff,
            limit,
        )
    ]
    if reference_key != UNPARSEABLE_REFERENCE_KEY:
        queries.append(
            _recent_failures(
                _BY_REFERENCE, FailedAttempt.reference_key, reference_key, cutoff, limit
            )
        )
    # One round trip for both counters.
    statement = union_all(*queries) if len(queries) > 1 else queries[0]
    failures: dict[int, list[datetime]] = {}
    for scope, attempted_at in session.execute(statement):
        failures.setdefault(scope, []).append(attempted_at)
    # With `limit` failures in the window the lock lifts when the oldest of the newest
    # `limit` ages out (normally exactly the oldest one counted: locked checks add none).
    locks = [min(times) + window for times in failures.values() if len(times) >= limit]
    return max(locks) if locks else None


def record_failure(
    session: Session,
    reference_key: str,
    conversation_id: str,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> None:
    """Store one failed check and drop failures too old to count for anyone."""
    settings = settings or get_settings()
    now = ensure_utc(now)
    # SKIP LOCKED: concurrent purges on PostgreSQL never wait on (or deadlock over)
    # each other's rows; SQLite ignores the clause.
    expired = (
        select(FailedAttempt.id)
        .where(FailedAttempt.attempted_at <= now - _window(settings))
        .limit(_PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(FailedAttempt).where(FailedAttempt.id.in_(expired)))
    session.add(
        FailedAttempt(
            reference_key=reference_key,
            conversation_key=conversation_key(conversation_id),
            attempted_at=now,
        )
    )
    session.flush()
