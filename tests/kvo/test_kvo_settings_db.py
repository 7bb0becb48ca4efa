"""Settings from the environment, database URLs, engine behaviour per backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from kvo.db import StoreUnavailable, make_engine, normalize_database_url, safe_url, session_scope
from kvo.models import Area, AreaKind, ContactArea, Province, Trajectory, TrajectoryKind
from kvo.settings import REPO_ROOT, Settings

MakeSettings = Callable[..., Settings]

ENV_NAMES = {
    "DATABASE_URL": ("database_url", "sqlite:////tmp/elsewhere.sqlite3"),
    "DB_TIMEOUT_SECONDS": ("db_timeout_seconds", 3.5),
    "PVO_CONTACT_EMAIL": ("contact_email", "info@example.org"),
    "PVO_CONTACT_PHONE": ("contact_phone", "000-0000000"),
    "PVO_CONTACT_URL": ("contact_url", "https://example.org/pvo"),
    "PVO_OFFICE_HOURS": ("office_hours", "ma-do 09:00-16:00"),
    "PVO_TIMEZONE": ("timezone", "Europe/Brussels"),
    "PVO_LOCKOUT_MAX_ATTEMPTS": ("lockout_max_attempts", 3),
    "PVO_LOCKOUT_WINDOW_MINUTES": ("lockout_window_minutes", 15),
    "PVO_ARGON2_TIME_COST": ("argon2_time_cost", 3),
    "PVO_ARGON2_MEMORY_COST_KIB": ("argon2_memory_cost_kib", 65536),
    "PVO_ARGON2_PARALLELISM": ("argon2_parallelism", 2),
    "PVO_LOCKOUT_CLIENT_MAX_ATTEMPTS": ("lockout_client_max_attempts", 25),
    "PVO_ACTIONS_HOST": ("actions_host", "0.0.0.0"),
    "PVO_ACTIONS_PORT": ("actions_port", 6055),
    "PVO_CONVERSATION_RETENTION_DAYS": ("conversation_retention_days", 14),
    "TRACKER_DB_URL": ("tracker_db_url", "postgresql://rasa@db/tracker"),
    "EVENTS_DB_URL": ("events_db_url", "postgresql://rasa@db/events"),
}


def test_every_setting_comes_from_its_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, (_, value) in ENV_NAMES.items():
        monkeypatch.setenv(name, str(value))
    settings = Settings(_env_file=None)
    for field, value in ENV_NAMES.values():
        assert getattr(settings, field) == value


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*ENV_NAMES, "ACTION_SERVER_TOKEN"]:
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == f"sqlite:///{REPO_ROOT / 'var' / 'kvo.sqlite3'}"
    assert settings.db_timeout_seconds == 2.0
    assert settings.contact_email == ""
    assert settings.contact_phone == ""
    assert settings.contact_url == "https://www.pvo-brabant-zeeland.nl"
    assert settings.office_hours == ""  # shown only when configured, never invented
    assert settings.timezone == "Europe/Amsterdam"
    assert (settings.lockout_max_attempts, settings.lockout_window_minutes) == (5, 60)
    assert settings.lockout_client_max_attempts == 10
    assert (settings.actions_host, settings.actions_port) == ("127.0.0.1", 5055)
    assert settings.conversation_retention_days == 30
    assert (settings.tracker_db_url, settings.events_db_url) == ("", "")


def test_the_action_server_token_stays_out_of_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    assert Settings(_env_file=None).action_server_token.get_secret_value() == ""
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "s3cret-" * 6)
    settings = Settings(_env_file=None)
    assert settings.action_server_token.get_secret_value() == "s3cret-" * 6
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())


def test_unknown_time_zone_is_refused(make_settings: MakeSettings) -> None:
    with pytest.raises(ValueError, match="time zone"):
        make_settings(timezone="Mars/Olympus")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:secret@db/kvo",
        "postgres://u:secret@db/kvo",
        "postgresql+psycopg2://u:secret@db/kvo",
        "postgresql+psycopg://u:secret@db/kvo",
    ],
)
def test_postgres_urls_use_psycopg3(url: str) -> None:
    parsed = normalize_database_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert parsed.database == "kvo"
    assert "secret" not in safe_url(url)


def test_sqlite_folder_is_created_on_demand(tmp_path: Path, make_settings: MakeSettings) -> None:
    target = tmp_path / "deep" / "er" / "kvo.sqlite3"
    engine = make_engine(f"sqlite:///{target}", make_settings())
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    engine.dispose()
    assert target.parent.is_dir()


def test_unreachable_postgres_is_store_unavailable(make_settings: MakeSettings) -> None:
    # Port 9 (discard) on localhost refuses connections immediately.
    engine = make_engine("postgresql://nobody@127.0.0.1:9/none", make_settings())
    with pytest.raises(StoreUnavailable), session_scope(engine) as session:
        session.execute(text("SELECT 1"))
    engine.dispose()


@pytest.mark.postgres
def test_postgres_engine_sets_statement_timeout(
    fresh_database_url: Callable[[str], str], make_settings: MakeSettings
) -> None:
    url = fresh_database_url("postgresql")
    engine = make_engine(url, make_settings(db_timeout_seconds=0.5))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "500ms"
        with pytest.raises(StoreUnavailable), session_scope(engine) as session:
            session.execute(text("SELECT pg_sleep(2)"))
    finally:
        engine.dispose()


def test_foreign_keys_are_enforced(kvo_engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(kvo_engine) as session:
        session.add(
            Trajectory(
                reference="KVO-2024-0001",
                area_id=999_999,
                kind=TrajectoryKind.FIRST_CERTIFICATION,
                target_stars=1,
                current_phase=1,
                access_code_hash="x",
            )
        )


def test_enum_and_check_constraints_hold_in_the_database(kvo_engine: Engine) -> None:
    with session_scope(kvo_engine) as session:
        session.add(
            Area(
                name="Testgebied",
                kind=AreaKind.WINKELGEBIED,
                municipality="Breda",
                province=Province.NOORD_BRABANT,
                contact_area=ContactArea.ZEELAND_WEST_BRABANT,
            )
        )
    try:
        with pytest.raises(IntegrityError), kvo_engine.begin() as connection:
            connection.execute(text("UPDATE areas SET kind = 'woonwijk' WHERE name = 'Testgebied'"))
        with pytest.raises(IntegrityError), kvo_engine.begin() as connection:
            area_id = connection.execute(text("SELECT id FROM areas")).scalar()
            connection.execute(
                text(
                    "INSERT INTO trajectories (reference, area_id, kind, target_stars,"
                    " current_phase, access_code_hash) VALUES"
                    " ('KVO-2024-0001', :area, 'hercertificering', 1, 6, 'x')"
                ),
                {"area": area_id},
            )
    finally:
        with kvo_engine.begin() as connection:
            connection.execute(text("DELETE FROM areas"))
