"""Staff operations on status-check lockouts: see who is locked, lift a lock.

Used by ``python -m kvo lockouts ...`` and (later) the staff API. Only keys, counts and times
leave this module: no codes, no conversation ids (those are stored as hashes anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select
from sqlalchemy.orm import Session

from kvo.errors import InvalidReference
from kvo.lockout import UNPARSEABLE_REFERENCE_KEY, Scope, window
from kvo.models import FailedAttempt
from kvo.references import normalize_reference
from kvo.settings import Settings, get_settings
from kvo.timeutil import ensure_utc

# Hashed keys are shown shortened; this many characters identify one for `clear_key`.
KEY_PREFIX_LENGTH = 12
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class LockoutEntry:
    scope: Scope
    key: str  # the reference, or the first KEY_PREFIX_LENGTH characters of a hashed key
    failures: int  # failed checks inside the window
    locked_until: datetime | None  # aware UTC; None: failures, but not (yet) locked


def _limit(scope: Scope, settings: Settings) -> int:
    if scope == "client":
        return settings.lockout_client_max_attempts
    return settings.lockout_max_attempts


def list_lockouts(
    session: Session,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    include_unlocked: bool = False,
) -> list[LockoutEntry]:
    """Keys locked now (or, with ``include_unlocked``, every key with failures in the window).

    Locked ones first, the longest lock first.
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    length = window(settings)
    rows = session.execute(
        select(
            FailedAttempt.reference_key,
            FailedAttempt.conversation_key,
            FailedAttempt.client_key,
            FailedAttempt.attempted_at,
        ).where(FailedAttempt.attempted_at > now - length)
    ).all()
    # The table only holds the last window's attempts (older ones are purged), so this stays small.
    times: dict[tuple[Scope, str], list[datetime]] = {}
    for reference_key, conversation, client, attempted_at in rows:
        if reference_key != UNPARSEABLE_REFERENCE_KEY:
            times.setdefault(("reference", reference_key), []).append(attempted_at)
        times.setdefault(("conversation", conversation), []).append(attempted_at)
        if client:
            times.setdefault(("client", client), []).append(attempted_at)
    entries = []
    for (scope, key), moments in times.items():
        limit = _limit(scope, settings)
        newest = sorted(moments, reverse=True)[:limit]
        until = min(newest) + length if len(newest) >= limit else None
        if until is None and not include_unlocked:
            continue
        shown = key if scope == "reference" else key[:KEY_PREFIX_LENGTH]
        entries.append(LockoutEntry(scope, shown, len(moments), until))
    entries.sort(
        key=lambda e: (
            e.locked_until is None,
            -e.locked_until.timestamp() if e.locked_until else 0.0,
            e.scope,
            e.key,
        )
    )
    return entries


def clear_reference(session: Session, reference_text: str) -> tuple[str, int]:
    """Forget the failed checks of one reference; returns (reference, rows removed).

    Also lifts the conversation and client counts those checks made. Flushes; the caller
    commits.
    """
    reference = normalize_reference(reference_text)
    if reference is None:
        raise InvalidReference(reference_text)
    result = session.execute(delete(FailedAttempt).where(FailedAttempt.reference_key == reference))
    return reference, cast("CursorResult[Any]", result).rowcount or 0


def clear_key(session: Session, key_prefix: str) -> int:
    """Forget the failed checks of a conversation or client key as ``list_lockouts`` shows it.

    Returns the rows removed. Raises ValueError for anything but KEY_PREFIX_LENGTH or more
    hex characters, so that a typo cannot clear many keys at once.
    """
    prefix = key_prefix.strip().lower()
    if len(prefix) < KEY_PREFIX_LENGTH or not set(prefix) <= _HEX:
        raise ValueError(f"expected at least {KEY_PREFIX_LENGTH} hex characters")
    pattern = f"{prefix}%"
    result = session.execute(
        delete(FailedAttempt).where(
            or_(
                FailedAttempt.conversation_key.like(pattern),
                FailedAttempt.client_key.like(pattern),
            )
        )
    )
    return cast("CursorResult[Any]", result).rowcount or 0
