"""Tokens and login limits: bearer JWTs for the API, a signed session cookie with a CSRF
token for the dashboard, and per-username and per-client login rate limits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.settings import ApiSettings
from kvo.timeutil import ensure_utc
from kvo.users import StaffUser

ALGORITHM = "HS256"
SESSION_COOKIE = "pvo_staff_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    version: int
    csrf: str | None  # session tokens only


def _encode(claims: dict[str, object], settings: ApiSettings) -> str:
    return jwt.encode(claims, settings.secret.get_secret_value(), algorithm=ALGORITHM)


def issue_token(
    user: StaffUser,
    settings: ApiSettings,
    *,
    kind: str = "access",
    now: datetime | None = None,
) -> tuple[str, int, str | None]:
    """(token, lifetime in seconds, csrf token for a session)."""
    now = ensure_utc(now)
    minutes = settings.token_minutes if kind == "access" else settings.session_minutes
    csrf = secrets.token_urlsafe(32) if kind == "session" else None
    claims: dict[str, object] = {
        "sub": str(user.id),
        "ver": user.token_version,
        "typ": kind,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    if csrf:
        claims["csrf"] = csrf
    return _encode(claims, settings), minutes * 60, csrf


def read_token(token: str, settings: ApiSettings, kind: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token of this kind, else None."""
    if not token or len(token) > 2048:
        return None
    try:
        claims = jwt.decode(
            token,
            settings.secret.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "typ"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != kind:
        return None
    try:
        return TokenClaims(int(claims["sub"]), int(claims.get("ver", -1)), claims.get("csrf"))
    except (TypeError, ValueError):
        return None


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(
        str(expected).encode(), str(given).encode()
    )


class LoginLimiter:
    """Moving-window limits per username and per client (in process memory: one API process)."""

    def __init__(self, settings: ApiSettings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_user = parse(settings.login_limit_per_user)
        self._per_client = parse(settings.login_limit_per_client)
        self._salt = secrets.token_bytes(16)

    def _key(self, text: str) -> str:
        # Keys hashed: no usernames or addresses kept in plain form.
        return hashlib.sha256(self._salt + text.encode()).hexdigest()

    def allow(self, username: str, client: str) -> bool:
        """Count one attempt; False when either limit is exceeded."""
        user_ok = self._limiter.hit(self._per_user, "user", self._key(username.lower()))
        client_ok = self._limiter.hit(self._per_client, "client", self._key(client))
        return user_ok and client_ok
