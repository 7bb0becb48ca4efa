"""Admin only: staff accounts and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import AdminUser, KvoSettingsDep, SessionDep
from api.errors import ApiError
from api.schemas.admin import AuditOut, AuditPageOut, UserIn, UserOut
from api.schemas.common import ERROR_RESPONSES, ErrorOut
from kvo import audit
from kvo.audit import MAX_AUDIT_PAGE, list_entries
from kvo.users import UserError, add_user, disable_user, list_users

router = APIRouter(tags=["admin"], responses=ERROR_RESPONSES)

Username = Annotated[str, Path(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]+$")]


@router.get("/users", response_model=list[UserOut])
def users_list(user: AdminUser, session: SessionDep) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in list_users(session)]


@router.post(
    "/users", response_model=UserOut, status_code=201, responses={409: {"model": ErrorOut}}
)
def user_create(
    user: AdminUser, session: SessionDep, settings: KvoSettingsDep, body: UserIn
) -> UserOut:
    try:
        created = add_user(session, body.username, body.password, body.role, settings=settings)
    except UserError as error:
        raise ApiError(409, "user_refused", str(error)) from None
    audit.record(session, user.username, "user.add", f"user:{created.id}")
    return UserOut.model_validate(created)


@router.post("/users/{username}/disable", response_model=UserOut)
def user_disable(user: AdminUser, session: SessionDep, username: Username) -> UserOut:
    try:
        disabled = disable_user(session, username)
    except UserError:
        raise ApiError(404, "user_not_found", "Deze gebruiker bestaat niet.") from None
    audit.record(session, user.username, "user.disable", f"user:{disabled.id}")
    return UserOut.model_validate(disabled)


@router.get("/audit", response_model=AuditPageOut)
def audit_list(
    user: AdminUser,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 100,
) -> AuditPageOut:
    result = list_entries(session, page, page_size)
    return AuditPageOut(
        items=[AuditOut.model_validate(e) for e in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )
