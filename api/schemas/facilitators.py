from __future__ import annotations

from datetime import datetime, time

from pydantic import AwareDatetime, EmailStr, Field

from api.schemas.common import In, Out
from kvo.models import ContactArea


class RuleIO(In, Out):  # type: ignore[misc]
    weekday: int = Field(ge=0, le=6)
    start_time: time
    end_time: time
    slot_minutes: int = Field(default=60, ge=15, le=480)


class BlockOut(Out):
    id: int
    starts_at: datetime
    ends_at: datetime
    reason: str | None


class FacilitatorOut(Out):
    id: int
    name: str
    email: str
    contact_area: str
    active: bool
    rules: list[RuleIO]
    blocks: list[BlockOut]


class FacilitatorIn(In):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr = Field(max_length=320)
    contact_area: ContactArea
    active: bool = True
    rules: list[RuleIO] = Field(default_factory=list, max_length=50)


class FacilitatorUpdateIn(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=320)
    contact_area: ContactArea | None = None
    active: bool | None = None
    rules: list[RuleIO] | None = Field(default=None, max_length=50)


class BlockIn(In):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str | None = Field(default=None, max_length=200)
