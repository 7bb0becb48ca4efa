from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import In, Out
from kvo.lead_notes import MAX_NOTE_CHARS
from kvo.models import LeadStatus


class LeadOut(Out):
    id: int
    reference: str
    kind: str
    status: str
    created_at: datetime
    contact_area: str | None
    municipality: str | None
    area_name: str | None
    area_kind: str | None
    role: str | None
    name: str | None
    organisation: str | None
    slot_start: datetime | None
    slot_end: datetime | None
    facilitator_name: str | None
    erased: bool
    mail_failed: bool


class LeadPageOut(Out):
    items: list[LeadOut]
    total: int
    page: int
    page_size: int


class LeadEventOut(Out):
    occurred_at: datetime
    event: str
    from_status: str | None
    to_status: str | None
    actor: str | None


class MailDeliveryOut(Out):
    kind: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None


class NoteOut(Out):
    id: int
    created_at: datetime
    author: str
    text: str


class LeadDetailOut(Out):
    lead: LeadOut
    email: str | None
    phone: str | None
    phone_display: str
    description: str | None
    consent_at: datetime
    facilitator_id: int | None
    facilitator_email: str | None
    updated_at: datetime
    erased_at: datetime | None
    allowed_statuses: list[str]
    events: list[LeadEventOut]
    deliveries: list[MailDeliveryOut]
    notes: list[NoteOut]


class StatusIn(In):
    status: LeadStatus


class StatusOut(Out):
    lead_id: int
    from_status: str
    to_status: str


class NoteIn(In):
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class ReassignIn(In):
    facilitator_id: int = Field(ge=1, le=2**31 - 1)


class ReassignOut(Out):
    lead_id: int
    facilitator_id: int


class ErasedOut(Out):
    lead_id: int
    already: bool
    # None: no tracker store configured or no conversation known.
    conversation_purged: bool | None
