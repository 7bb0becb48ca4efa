"""Staff accounts: create, disable, reset a password, authenticate.

Used by ``python -m kvo users ...`` and the staff API. Passwords are argon2id hashes with
the same parameters as the access codes; a failed login costs the same whether the
user is unknown, disabled or gave a wrong password.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Union

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kvo.access_codes import dummy_hash, get_hasher
from kvo.models import User, UserRole
from kvo.settings import Settings

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


class UserError(ValueError):
    """A user command with input the account rules refuse."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    role: str
    active: bool
    token_version: int

    @property
    def is_admin(self) -> bool:
        return self.role == UserRole.ADMIN.value


@dataclass(frozen=True)
class LoginRefused:
    pass


LoginOutcome = Union[StaffUser, LoginRefused]  # noqa: UP007


def _plain(user: User) -> StaffUser:
    return StaffUser(user.id, user.username, user.role.value, user.active, user.token_version)


def normalize_username(text: str) -> str:
    return (text or "").strip().lower()


def check_username(text: str) -> str:
    username = normalize_username(text)
    if not USERNAME_RE.match(username):
        raise UserError("gebruikersnaam: 2-64 tekens, kleine letters, cijfers, . _ -")
    return username


def check_password(password: str) -> str:
    if not (MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH):
        raise UserError(f"wachtwoord: {MIN_PASSWORD_LENGTH} tot {MAX_PASSWORD_LENGTH} tekens")
    return password


def generate_password() -> str:
    """A random password for a new account or a reset (shown once)."""
    return secrets.token_urlsafe(15)


def add_user(
    session: Session,
    username: str,
    password: str,
    role: UserRole = UserRole.STAFF,
    *,
    settings: Settings | None = None,
) -> StaffUser:
    name = check_username(username)
    check_password(password)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise UserError(f"gebruiker {name} bestaat al")
    user = User(
        username=name,
        password_hash=get_hasher(settings).hash(password),
        role=role,
        active=True,
    )
    session.add(user)
    session.flush()
    return _plain(user)


def _existing(session: Session, username: str) -> User:
    user = session.scalars(
        select(User).where(User.username == normalize_username(username)).with_for_update()
    ).one_or_none()
    if user is None:
        raise UserError("onbekende gebruiker")
    return user


def disable_user(session: Session, username: str) -> StaffUser:
    """Disable an account; its tokens and sessions stop working at once."""
    user = _existing(session, username)
    user.active = False
    user.token_version += 1
    session.flush()
    return _plain(user)


def reset_password(
    session: Session, username: str, password: str, *, settings: Settings | None = None
) -> StaffUser:
    """Set a new password (and re-enable the account); older tokens stop working."""
    check_password(password)
    user = _existing(session, username)
    user.password_hash = get_hasher(settings).hash(password)
    user.active = True
    user.token_version += 1
    session.flush()
    return _plain(user)


def authenticate(
    session: Session, username: str, password: str, *, settings: Settings | None = None
) -> LoginOutcome:
    """The user when the password matches an active account, else LoginRefused."""
    name = normalize_username(username)
    user = (
        session.scalars(select(User).where(User.username == name)).one_or_none()
        if len(name) <= 64
        else None
    )
    target = user.password_hash if user is not None and user.active else None
    password = (password or "")[:MAX_PASSWORD_LENGTH]
    try:
        matched = get_hasher(settings).verify(target or dummy_hash(settings), password)
    except (VerificationError, InvalidHashError):
        matched = False
    if not matched or user is None or target is None:
        return LoginRefused()
    if get_hasher(settings).check_needs_rehash(user.password_hash):
        user.password_hash = get_hasher(settings).hash(password)
        session.flush()
    return _plain(user)


def get_user(session: Session, user_id: int) -> StaffUser | None:
    user = session.get(User, user_id)
    return _plain(user) if user is not None else None


def list_users(session: Session) -> list[StaffUser]:
    return [_plain(u) for u in session.scalars(select(User).order_by(User.username))]
