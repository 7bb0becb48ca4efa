from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import In, Out
from kvo.models import UserRole
from kvo.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class LockoutOut(Out):
    scope: str
    key: str
    failures: int
    locked_until: datetime | None


class ClearedOut(Out):
    removed: int


class UserOut(Out):
    id: int
    username: str
    role: str
    active: bool


class UserIn(In):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    role: UserRole = UserRole.STAFF


class AuditOut(Out):
    id: int
    occurred_at: datetime
    actor: str
    action: str
    subject: str


class AuditPageOut(Out):
    items: list[AuditOut]
    total: int
    page: int
    page_size: int


class HealthOut(Out):
    status: str


class ReadyOut(Out):
    status: str
    database: str
    engine: str
    actions: str
