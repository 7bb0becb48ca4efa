"""Fixtures for the custom-action tests: settings from the environment, real demo databases.

Every test runs with a known environment (contact routes, office hours, time zone) and with the
settings and engine caches of ``kvo`` cleared before and after, so nothing leaks between tests.

Status tests get a migrated database with the demo data (``kvo.demo_data``):
- SQLite: one template file per session, copied into ``tmp_path`` for each test;
- PostgreSQL (``@pytest.mark.postgres``): one throwaway database per session next to
  ``TEST_POSTGRES_URL`` (default postgres@127.0.0.1:5432/test), with the failed attempts wiped
  after each test. When the server is unreachable those tests skip, unless ``CI=true``: then
  they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from sqlalchemy import create_engine, delete

from kvo import db, migrate
from kvo.db_purpose import mark_demo
from kvo.demo_data import load_demo_data
from kvo.models import FailedAttempt
from kvo.scratch_db import (
    DEFAULT_TEST_POSTGRES_URL,
    PostgresUnavailable,
    throwaway_postgres_database,
)
from kvo.settings import REPO_ROOT, Settings, get_settings
from tests.actions.action_calls import load_domain, rendered

CONTACT_PHONE = "013 - 123 45 67"
CONTACT_EMAIL = "kvo@pvo-test.example"
CONTACT_URL = "https://pvo-test.example/contact"

BASE_ENV = {
    "PVO_CONTACT_PHONE": CONTACT_PHONE,
    "PVO_CONTACT_EMAIL": CONTACT_EMAIL,
    "PVO_CONTACT_URL": CONTACT_URL,
    "PVO_OFFICE_HOURS": "ma-vr 09:00-17:00",
    "PVO_TIMEZONE": "Europe/Amsterdam",
    "PVO_LOCKOUT_MAX_ATTEMPTS": "5",
    "PVO_LOCKOUT_WINDOW_MINUTES": "60",
    "PVO_ARGON2_TIME_COST": "2",
    "PVO_ARGON2_MEMORY_COST_KIB": "19456",
    "PVO_ARGON2_PARALLELISM": "1",
    "DB_TIMEOUT_SECONDS": "10",
    # An empty in-memory database: a test that forgets to ask for one never touches var/.
    "DATABASE_URL": "sqlite://",
}


def reset_kvo_caches() -> None:
    """Forget cached settings, engine and sessionmaker (disposing a cached engine)."""
    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose()
    db.get_engine.cache_clear()
    db._default_sessionmaker.cache_clear()
    get_settings.cache_clear()


def settings_for_tests(**overrides: object) -> Settings:
    """Settings built only from ``BASE_ENV`` plus overrides (no env vars, no .env file)."""
    values: dict[str, object] = {
        "database_url": "sqlite://",
        "contact_phone": CONTACT_PHONE,
        "contact_email": CONTACT_EMAIL,
        "contact_url": CONTACT_URL,
        "office_hours": "ma-vr 09:00-17:00",
        "timezone": "Europe/Amsterdam",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def action_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A known environment for every test; returns the monkeypatch to change it further.

    After changing an env var, call ``reset_kvo_caches()`` (the fixtures below do).
    """
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)
    reset_kvo_caches()
    yield monkeypatch
    reset_kvo_caches()


@pytest.fixture
def use_env(action_env: pytest.MonkeyPatch) -> Callable[..., None]:
    """``use_env(PVO_OFFICE_HOURS="...")``: set env vars and clear the caches."""

    def apply(**values: str) -> None:
        for name, value in values.items():
            action_env.setenv(name, value)
        reset_kvo_caches()

    return apply


# --- Rasa-side objects --------------------------------------------------------------------


def _load_yaml(relative: str) -> dict[str, Any]:
    with open(REPO_ROOT / relative, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain.yml as a dict (forms and slots for the form validation, responses)."""
    return load_domain()


@pytest.fixture(scope="session")
def faq_responses() -> dict[str, Any]:
    return _load_yaml("data/responses/faq.yml")["responses"]


def make_tracker(
    text: str | None = "",
    intent: str | None = None,
    *,
    confidence: float = 0.95,
    intent_ranking: list[dict[str, Any]] | None = None,
    entities: list[dict[str, Any]] | None = None,
    response_selector: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    requested_slot: str | None = None,
    active_loop: str | None = None,
    sender_id: str = "test-conversation",
) -> Tracker:
    """A tracker as the action server builds it (``Tracker.from_dict``) for one user message."""
    if intent_ranking is None:
        intent_ranking = [{"name": intent, "confidence": confidence}] if intent else []
    latest_message: dict[str, Any] = {
        "text": text,
        "intent": intent_ranking[0] if intent_ranking else {},
        "intent_ranking": intent_ranking,
        "entities": entities or [],
    }
    if response_selector is not None:
        latest_message["response_selector"] = response_selector
    all_slots: dict[str, Any] = {"reference_code": None, "access_code": None}
    all_slots.update(slots or {})
    all_slots["requested_slot"] = requested_slot
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {
            "event": "user",
            "text": text,
            "parse_data": latest_message,
            "input_channel": "rest",
        },
    ]
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": all_slots,
            "latest_message": latest_message,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


@pytest.fixture(scope="session")
def tracker_for() -> Callable[..., Tracker]:
    """``tracker_for(text, intent, ...)``: see ``make_tracker``."""
    return make_tracker


def uttered_texts(messages: list[dict[str, Any]]) -> str:
    """Everything a visitor could see of the dispatched messages (texts and buttons) as one string."""
    parts: list[str] = []
    for message in map(rendered, messages):
        parts.append(str(message.get("text") or ""))
        for button in message.get("buttons") or []:
            parts.append(str(button.get("title", "")))
            parts.append(str(button.get("payload", "")))
    return "\n".join(parts)


@pytest.fixture(scope="session")
def visible() -> Callable[[list[dict[str, Any]]], str]:
    """``visible(dispatcher.messages)``: see ``uttered_texts``."""
    return uttered_texts


@pytest.fixture(scope="session")
def make_settings() -> Callable[..., Settings]:
    """``make_settings(contact_phone="", ...)``: see ``settings_for_tests``."""
    return settings_for_tests


@pytest.fixture(scope="session")
def contact() -> dict[str, str]:
    """The contact routes configured by the environment of every test."""
    return {"phone": CONTACT_PHONE, "email": CONTACT_EMAIL, "url": CONTACT_URL}


# --- databases ------------------------------------------------------------------------------


def _seed(url: str) -> None:
    """Migrate ``url`` and load the demo data with the argon2 settings of ``BASE_ENV``."""
    migrate.upgrade(url)
    settings = settings_for_tests(database_url=url)
    engine = db.make_engine(url, settings)
    try:
        with db.session_scope(engine) as session:
            mark_demo(session)
            load_demo_data(session, settings=settings)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo-template") / "kvo.sqlite3"
    _seed(f"sqlite:///{path}")
    return path


def postgres_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL


def postgres_missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required when CI=true: {reason}")
    pytest.skip(f"PostgreSQL not reachable (set TEST_POSTGRES_URL): {reason}")


@pytest.fixture(scope="session")
def postgres_demo_url() -> Iterator[str]:
    """A throwaway PostgreSQL database with the demo data, for the whole session."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(
                throwaway_postgres_database(postgres_admin_url(), prefix="kvo_actions_test")
            )
        except PostgresUnavailable as error:
            postgres_missing(str(error))
            raise AssertionError("unreachable") from error  # skip() / fail() raise
        _seed(url)
        yield url


@pytest.fixture(scope="session")
def postgres_empty_url() -> Iterator[str]:
    """A throwaway PostgreSQL database that was never migrated (no tables at all)."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(
                throwaway_postgres_database(postgres_admin_url(), prefix="kvo_actions_empty")
            )
        except PostgresUnavailable as error:
            postgres_missing(str(error))
            raise AssertionError("unreachable") from error
        yield url


def _wipe_failed_attempts(url: str) -> None:
    engine = create_engine(db.normalize_database_url(url))
    try:
        with engine.begin() as connection:
            connection.execute(delete(FailedAttempt))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_database(
    request: pytest.FixtureRequest, tmp_path: Path, use_env: Callable[..., None]
) -> Iterator[str]:
    """DATABASE_URL of a migrated database holding the demo data and no failed attempts."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_demo_template")
        target = tmp_path / "kvo.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            source = template.with_name(template.name + suffix)
            if source.exists():
                shutil.copy(source, target.with_name(target.name + suffix))
        url = f"sqlite:///{target}"
        use_env(DATABASE_URL=url)
        yield url
        reset_kvo_caches()
    else:
        url = request.getfixturevalue("postgres_demo_url")
        use_env(DATABASE_URL=url)
        try:
            yield url
        finally:
            reset_kvo_caches()
            _wipe_failed_attempts(url)
