"""Staff notes on a lead. Notes may hold personal data: erasing the lead deletes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kvo.models import Lead, LeadNote
from kvo.timeutil import ensure_utc

MAX_NOTE_CHARS = 2000


@dataclass(frozen=True)
class Note:
    id: int
    created_at: datetime
    author: str
    text: str


def add_note(
    session: Session, lead_id: int, author: str, text: str, now: datetime | None = None
) -> Note | None:
    """The new note, or None when the lead does not exist."""
    cleaned = (text or "").strip()
    if not cleaned or len(cleaned) > MAX_NOTE_CHARS:
        raise ValueError(f"a note has 1 to {MAX_NOTE_CHARS} characters")
    if session.scalar(select(Lead.id).where(Lead.id == lead_id)) is None:
        return None
    note = LeadNote(lead_id=lead_id, created_at=ensure_utc(now), author=author, text=cleaned)
    session.add(note)
    session.flush()
    return Note(note.id, note.created_at, note.author, note.text)


def list_notes(session: Session, lead_id: int) -> list[Note]:
    rows = session.scalars(
        select(LeadNote).where(LeadNote.lead_id == lead_id).order_by(LeadNote.id)
    )
    return [Note(n.id, n.created_at, n.author, n.text) for n in rows]


def delete_notes(session: Session, lead_id: int) -> int:
    result = session.execute(delete(LeadNote).where(LeadNote.lead_id == lead_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
