"""Dependencies shared by the routers: the domain session, the logged-in staff user, roles.

``CurrentStaff`` accepts a bearer JWT (API clients) or the dashboard's session cookie; with
the cookie, every state-changing request must also carry the session's CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import exc
from sqlalchemy.orm import Session

from api.errors import ApiError, LoginRequired
from api.security import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, csrf_matches, read_token
from api.settings import ApiSettings
from kvo.db import StoreUnavailable
from kvo.settings import Settings
from kvo.users import StaffUser, get_user

_OUTAGE_ERRORS = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_api_settings(request: Request) -> ApiSettings:
    return request.app.state.api_settings  # type: ignore[no-any-return]


def get_kvo_settings(request: Request) -> Settings:
    return request.app.state.kvo_settings  # type: ignore[no-any-return]


def get_db(request: Request) -> Iterator[Session]:
    """One domain session per request: committed when the endpoint returns, else rolled back."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except _OUTAGE_ERRORS as error:
        session.rollback()
        raise StoreUnavailable("database unavailable") from error
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": the commit happens before the response goes out, so a client that
# gets 200 can read its change with the next request.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
ApiSettingsDep = Annotated[ApiSettings, Depends(get_api_settings)]
KvoSettingsDep = Annotated[Settings, Depends(get_kvo_settings)]


async def _csrf_given(request: Request) -> str | None:
    """The CSRF token a state-changing request sent (header, else form field)."""
    if request.method in SAFE_METHODS:
        return None
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _unauthenticated() -> ApiError:
    return ApiError(
        401,
        "not_authenticated",
        "Niet ingelogd of sessie verlopen.",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _user_from_claims(session: Session, user_id: int, version: int) -> StaffUser | None:
    user = get_user(session, user_id)
    if user is None or not user.active or user.token_version != version:
        return None
    return user


def _staff_or_none(
    request: Request, session: Session, settings: ApiSettings, csrf_given: str | None
) -> StaffUser | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if authorization:
        if scheme.lower() != "bearer":
            return None
        claims = read_token(token.strip(), settings, "access")
    else:
        claims = read_token(request.cookies.get(SESSION_COOKIE, ""), settings, "session")
        unsafe = request.method not in SAFE_METHODS
        if claims is not None and unsafe and not csrf_matches(claims.csrf, csrf_given):
            raise ApiError(403, "csrf_failed", "Het formulier is verlopen; laad de pagina opnieuw.")
    if claims is None:
        return None
    user = _user_from_claims(session, claims.user_id, claims.version)
    if user is not None:
        request.state.csrf = claims.csrf
    return user


def current_staff(
    request: Request,
    session: SessionDep,
    settings: ApiSettingsDep,
    csrf_given: Annotated[str | None, Depends(_csrf_given)],
) -> StaffUser:
    user = _staff_or_none(request, session, settings, csrf_given)
    if user is None:
        raise _unauthenticated()
    return user


CurrentStaff = Annotated[StaffUser, Depends(current_staff)]


def admin_user(user: CurrentStaff) -> StaffUser:
    if not user.is_admin:
        raise ApiError(403, "admin_required", "Alleen een beheerder mag dit.")
    return user


AdminUser = Annotated[StaffUser, Depends(admin_user)]


def dashboard_staff(
    request: Request,
    session: SessionDep,
    settings: ApiSettingsDep,
    csrf_given: Annotated[str | None, Depends(_csrf_given)],
) -> StaffUser:
    """Like CurrentStaff, cookie only; without a session the browser goes to the login page."""
    if request.headers.get("authorization"):
        raise LoginRequired()
    user = _staff_or_none(request, session, settings, csrf_given)
    if user is None:
        raise LoginRequired()
    return user


DashboardStaff = Annotated[StaffUser, Depends(dashboard_staff)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
