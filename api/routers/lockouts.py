"""Status-check lockouts: list and clear (by reference or by hashed key prefix)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import CurrentStaff, KvoSettingsDep, SessionDep
from api.errors import ApiError
from api.schemas.admin import ClearedOut, LockoutOut
from api.schemas.common import ERROR_RESPONSES
from kvo import audit
from kvo.errors import InvalidReference
from kvo.lockout_admin import clear_key, clear_reference, list_lockouts

router = APIRouter(prefix="/lockouts", tags=["lockouts"], responses=ERROR_RESPONSES)


@router.get("", response_model=list[LockoutOut])
def lockouts_list(
    user: CurrentStaff,
    session: SessionDep,
    settings: KvoSettingsDep,
    include_unlocked: bool = False,
) -> list[LockoutOut]:
    entries = list_lockouts(session, settings=settings, include_unlocked=include_unlocked)
    return [LockoutOut.model_validate(e) for e in entries]


@router.delete("/reference/{reference}", response_model=ClearedOut)
def lockout_clear_reference(
    user: CurrentStaff,
    session: SessionDep,
    reference: Annotated[str, Path(min_length=1, max_length=40)],
) -> ClearedOut:
    try:
        shown, removed = clear_reference(session, reference)
    except InvalidReference:
        raise ApiError(
            422, "invalid_reference", "Geen geldige referentie (KVO-JJJJ-NNNN)."
        ) from None
    audit.record(session, user.username, "lockout.clear", f"reference:{shown}")
    return ClearedOut(removed=removed)


@router.delete("/key/{key}", response_model=ClearedOut)
def lockout_clear_key(
    user: CurrentStaff,
    session: SessionDep,
    key: Annotated[str, Path(min_length=12, max_length=64, pattern=r"^[0-9a-fA-F]+$")],
) -> ClearedOut:
    try:
        removed = clear_key(session, key)
    except ValueError:
        raise ApiError(422, "invalid_key", "Geef minstens 12 hexadecimale tekens.") from None
    audit.record(session, user.username, "lockout.clear", f"key:{key[:12].lower()}")
    return ClearedOut(removed=removed)
