"""Answers of an intake (or callback, cancel, move) conversation kept between chat turns.

The redacting tracker store keeps a sensitive slot's value only during the turn it
was typed in, so the chat action stores what it needs later here: one row per
conversation, keyed by the SHA-256 of the conversation id (the id itself is not
stored). Rows expire after ``intake_draft_ttl_minutes`` of inactivity; the chat
discards the draft on stop, on no consent and after booking, and
:func:`purge_expired_drafts` removes the rest. Values are strings (or None).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kvo.lockout import conversation_key
from kvo.models import IntakeDraft
from kvo.settings import Settings, get_settings
from kvo.timeutil import ensure_utc

MAX_FIELDS = 40
MAX_VALUE_CHARS = 2000
_FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class InvalidDraftField(ValueError):
    """A field name or value the draft does not accept (programming error in the caller)."""


def _check(name: str, value: str | None) -> None:
    if not _FIELD_NAME_RE.match(name):
        raise InvalidDraftField(f"field name {name!r}")
    if value is not None and (not isinstance(value, str) or len(value) > MAX_VALUE_CHARS):
        raise InvalidDraftField(f"value of {name!r}")


def _get(session: Session, conversation_id: str, now: datetime) -> IntakeDraft | None:
    draft = session.get(IntakeDraft, conversation_key(conversation_id))
    if draft is not None and draft.expires_at <= now:
        session.delete(draft)
        session.flush()
        return None
    return draft


def save_fields(
    session: Session,
    conversation_id: str,
    values: Mapping[str, str | None],
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> dict[str, str | None]:
    """Store (or overwrite) fields of the conversation's draft; returns the whole draft.

    Each save extends the draft's life by the configured time to live.
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    for name, value in values.items():
        _check(name, value)
    # Abandoned conversations leave drafts behind: clear the expired ones as we go (indexed),
    # so personal answers do not outlive their time to live even without `leads purge`.
    session.execute(delete(IntakeDraft).where(IntakeDraft.expires_at <= now))
    draft = _get(session, conversation_id, now)
    if draft is None:
        draft = IntakeDraft(
            conversation_key=conversation_key(conversation_id), fields={}, created_at=now
        )
        session.add(draft)
    fields = {**draft.fields, **values}
    if len(fields) > MAX_FIELDS:
        raise InvalidDraftField("too many fields")
    # A new dict, so SQLAlchemy sees the JSON column change.
    draft.fields = fields
    draft.updated_at = now
    draft.expires_at = now + timedelta(minutes=settings.intake_draft_ttl_minutes)
    session.flush()
    return dict(fields)


def save_field(
    session: Session,
    conversation_id: str,
    name: str,
    value: str | None,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> dict[str, str | None]:
    """Store one field; see :func:`save_fields`."""
    return save_fields(session, conversation_id, {name: value}, now, settings=settings)


def load_draft(
    session: Session, conversation_id: str, now: datetime | None = None
) -> dict[str, str | None]:
    """The conversation's draft fields; empty when there is none or it expired."""
    draft = _get(session, conversation_id, ensure_utc(now))
    return dict(draft.fields) if draft is not None else {}


def discard_draft(session: Session, conversation_id: str) -> bool:
    """Delete the conversation's draft (stop, no consent, done); True when one existed."""
    result = session.execute(
        delete(IntakeDraft).where(IntakeDraft.conversation_key == conversation_key(conversation_id))
    )
    session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def purge_expired_drafts(session: Session, now: datetime | None = None) -> int:
    """Delete every expired draft; returns how many."""
    result = session.execute(delete(IntakeDraft).where(IntakeDraft.expires_at <= ensure_utc(now)))
    session.flush()
    return int(result.rowcount)  # type: ignore[attr-defined]


def draft_exists(session: Session, conversation_id: str, now: datetime | None = None) -> bool:
    key = conversation_key(conversation_id)
    found = session.scalar(
        select(IntakeDraft.conversation_key).where(
            IntakeDraft.conversation_key == key, IntakeDraft.expires_at > ensure_utc(now)
        )
    )
    return found is not None
