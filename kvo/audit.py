"""The audit log: who viewed, exported or erased personal data, and when.

Subjects are ids ("lead:12", "leads:export"), never names or other personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kvo.models import AuditEntry
from kvo.timeutil import ensure_utc

MAX_AUDIT_PAGE = 500


@dataclass(frozen=True)
class AuditRecord:
    id: int
    occurred_at: datetime
    actor: str
    action: str
    subject: str


@dataclass(frozen=True)
class AuditPage:
    items: tuple[AuditRecord, ...]
    total: int
    page: int
    page_size: int


def record(
    session: Session, actor: str, action: str, subject: str, now: datetime | None = None
) -> None:
    """Add one entry; it commits with the caller's transaction."""
    session.add(
        AuditEntry(
            occurred_at=ensure_utc(now),
            actor=actor[:64],
            action=action[:40],
            subject=subject[:100],
        )
    )
    session.flush()


def list_entries(session: Session, page: int = 1, page_size: int = 100) -> AuditPage:
    """Newest first."""
    page = max(1, page)
    size = min(max(1, page_size), MAX_AUDIT_PAGE)
    total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    rows = session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    return AuditPage(
        tuple(AuditRecord(r.id, r.occurred_at, r.actor, r.action, r.subject) for r in rows),
        total,
        page,
        size,
    )
