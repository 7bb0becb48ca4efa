from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from api.schemas.common import In, Out
from kvo.models import AreaKind, ContactArea, Province, TrajectoryKind

MAX_ID = 2**31 - 1


class TrajectoryOut(Out):
    id: int
    reference: str
    area_name: str
    municipality: str
    area_kind: str
    contact_area: str
    kind: str
    target_stars: int
    current_phase: int
    phase_name: str
    facilitator_id: int | None
    facilitator_name: str | None
    next_step: str | None
    updated_at: datetime


class TrajectoryPageOut(Out):
    items: list[TrajectoryOut]
    total: int
    page: int
    page_size: int


class PhaseOut(Out):
    phase: int
    started_on: date
    completed_on: date | None


class PhaseChangeOut(Out):
    from_phase: int
    to_phase: int
    effective_on: date
    changed_at: datetime
    author: str


class TrajectoryDetailOut(Out):
    trajectory: TrajectoryOut
    next_step_owner: str | None
    survey_response_rate: float | None
    survey_required_rate: float | None
    schouw_date: date | None
    audit_date: date | None
    certificate_issued_on: date | None
    certificate_expires_on: date | None
    phases: list[PhaseOut]
    phase_changes: list[PhaseChangeOut]


class TrajectoryIn(In):
    reference: str = Field(min_length=13, max_length=13, pattern=r"^KVO-\d{4}-\d{4}$")
    area_name: str = Field(min_length=1, max_length=200)
    municipality: str = Field(min_length=1, max_length=100)
    area_kind: AreaKind
    province: Province
    contact_area: ContactArea
    kind: TrajectoryKind
    target_stars: int = Field(ge=1, le=5)
    started_on: date
    facilitator_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    next_step: str | None = Field(default=None, max_length=500)
    next_step_owner: str | None = Field(default=None, max_length=200)


class TrajectoryCreatedOut(Out):
    id: int
    reference: str
    access_code: str  # shown once


class TrajectoryUpdateIn(In):
    target_stars: int | None = Field(default=None, ge=1, le=5)
    survey_response_rate: float | None = Field(default=None, ge=0, le=100)
    survey_required_rate: float | None = Field(default=None, ge=0, le=100)
    schouw_date: date | None = None
    audit_date: date | None = None
    certificate_issued_on: date | None = None
    certificate_expires_on: date | None = None
    facilitator_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    next_step: str | None = Field(default=None, max_length=500)
    next_step_owner: str | None = Field(default=None, max_length=200)


class PhaseIn(In):
    phase: int = Field(ge=1, le=5)
    effective_on: date


class NextStepIn(In):
    next_step: str | None = Field(default=None, max_length=500)
    next_step_owner: str | None = Field(default=None, max_length=200)


class AccessCodeOut(Out):
    reference: str
    access_code: str  # shown once
