"""`python -m kvo users add|disable|reset-password`: argon2 hashes, one-time passwords."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kvo import migrate
from kvo.cli import app
from kvo.db import make_engine, session_scope
from kvo.models import User
from kvo.settings import Settings
from kvo.users import LoginRefused, StaffUser, authenticate


@pytest.fixture
def users_db(fresh_database_url: Callable[[str], str]) -> str:
    url = fresh_database_url("sqlite")
    migrate.upgrade(url)
    return url


def _login(url: str, settings: Settings, username: str, password: str) -> object:
    engine = make_engine(url, settings)
    try:
        with session_scope(engine) as session:
            return authenticate(session, username, password, settings=settings)
    finally:
        engine.dispose()


def test_add_disable_reset(users_db: str, kvo_settings: Settings) -> None:
    runner = CliRunner()
    added = runner.invoke(
        app, ["--database-url", users_db, "users", "add", "Anna", "--role", "admin"]
    )
    assert added.exit_code == 0, added.output
    password = added.stdout.strip().splitlines()[-1]
    assert len(password) >= 12
    assert isinstance(_login(users_db, kvo_settings, "anna", password), StaffUser)

    engine = make_engine(users_db, kvo_settings)
    with session_scope(engine) as session:
        stored = session.scalars(select(User)).one()
        assert (
            stored.password_hash.startswith("$argon2id$") and password not in stored.password_hash
        )
        assert stored.role.value == "admin"
    engine.dispose()

    again = runner.invoke(app, ["--database-url", users_db, "users", "add", "anna"])
    assert again.exit_code == 1 and "bestaat al" in again.output
    short = runner.invoke(
        app, ["--database-url", users_db, "users", "add", "bob", "--password-stdin"], input="kort\n"
    )
    assert short.exit_code == 1 and "12" in short.output

    disabled = runner.invoke(app, ["--database-url", users_db, "users", "disable", "anna"])
    assert disabled.exit_code == 0
    assert isinstance(_login(users_db, kvo_settings, "anna", password), LoginRefused)

    reset = runner.invoke(
        app,
        ["--database-url", users_db, "users", "reset-password", "anna", "--password-stdin"],
        input="een-nieuw-wachtwoord\n",
    )
    assert reset.exit_code == 0 and "een-nieuw-wachtwoord" not in reset.output
    assert isinstance(_login(users_db, kvo_settings, "anna", "een-nieuw-wachtwoord"), StaffUser)
    unknown = runner.invoke(app, ["--database-url", users_db, "users", "disable", "nobody"])
    assert unknown.exit_code == 1 and "onbekende gebruiker" in unknown.output
