"""POST /auth/token: username + password (OAuth2 password form) -> a short-lived bearer JWT."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from api.deps import ApiSettingsDep, CurrentStaff, KvoSettingsDep, SessionDep, client_address
from api.errors import ApiError
from api.schemas.auth import MeOut, TokenOut
from api.schemas.common import ErrorOut
from api.security import issue_token
from kvo.users import LoginRefused, StaffUser, authenticate

router = APIRouter(prefix="/auth", tags=["auth"])

Username = Annotated[str, Form(min_length=1, max_length=64)]
Password = Annotated[str, Form(min_length=1, max_length=256)]


def login(
    request: Request,
    session: SessionDep,
    kvo_settings: KvoSettingsDep,
    username: str,
    password: str,
) -> StaffUser:
    """Rate-limited password check shared by the token endpoint and the dashboard login."""
    if not request.app.state.login_limiter.allow(username, client_address(request)):
        raise ApiError(429, "rate_limited", "Te veel inlogpogingen; probeer het later opnieuw.")
    outcome = authenticate(session, username, password, settings=kvo_settings)
    if isinstance(outcome, LoginRefused):
        raise ApiError(401, "login_failed", "Gebruikersnaam of wachtwoord onjuist.")
    return outcome


@router.post(
    "/token",
    response_model=TokenOut,
    responses={401: {"model": ErrorOut}, 429: {"model": ErrorOut}},
)
def token(
    request: Request,
    session: SessionDep,
    settings: ApiSettingsDep,
    kvo_settings: KvoSettingsDep,
    username: Username,
    password: Password,
) -> TokenOut:
    user = login(request, session, kvo_settings, username, password)
    value, seconds, _ = issue_token(user, settings)
    return TokenOut(access_token=value, expires_in=seconds)


@router.get("/me", response_model=MeOut)
def me(user: CurrentStaff) -> MeOut:
    return MeOut(id=user.id, username=user.username, role=user.role)
