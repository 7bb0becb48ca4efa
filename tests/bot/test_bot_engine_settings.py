"""Engine settings (bot/engine_settings.py) and the launcher's per-run secrets."""

from __future__ import annotations

import pytest

from bot.engine_settings import EngineSettings, SettingError, check_secret, parse_rate
from bot.launcher import ensure_run_secrets


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "PVO_ENGINE_HOST",
        "PVO_ALLOWED_ORIGINS",
        "RASA_ENABLE_API",
        "PVO_RATE_LIMIT",
        "PVO_LONG_MESSAGE_RATE",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = EngineSettings.from_env()
    assert settings.host == "127.0.0.1"
    assert settings.allowed_origins == ("http://localhost:8000", "http://127.0.0.1:8000")
    assert settings.enable_api is False
    assert settings.max_message_chars == 1000
    assert settings.max_body_bytes == 64 * 1024
    assert settings.rate_limit == (20, 60.0)
    assert settings.long_message_rate == (30, 60.0)
    assert settings.reply_deadline_seconds == 3.0


@pytest.mark.parametrize("value", ["", "short", "changeme", "x" * 31])
def test_weak_secrets_are_refused(value: str) -> None:
    with pytest.raises(SettingError, match="RASA_API_TOKEN"):
        check_secret("RASA_API_TOKEN", value)


def test_a_long_random_secret_is_accepted() -> None:
    check_secret("RASA_API_TOKEN", "k3Y" * 12)


@pytest.mark.parametrize(
    ("text", "expected"), [("20/minute", (20, 60.0)), (" 5 / second ", (5, 1.0))]
)
def test_rate_parsing(text: str, expected: tuple[int, float]) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["", "0/minute", "20 per minute", "-1/hour", "20/day"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(SettingError, match="PVO_RATE_LIMIT"):
        parse_rate(text)


def test_a_bad_long_message_rate_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PVO_LONG_MESSAGE_RATE", "many")
    with pytest.raises(SettingError, match="PVO_LONG_MESSAGE_RATE"):
        EngineSettings.from_env()


def test_launcher_generates_only_missing_secrets() -> None:
    env = {"ACTION_SERVER_TOKEN": "given-" + "x" * 40}
    assert ensure_run_secrets(env) == ["PVO_SESSION_SECRET", "PVO_API_SECRET"]
    assert env["ACTION_SERVER_TOKEN"] == "given-" + "x" * 40
    assert len(env["PVO_SESSION_SECRET"]) >= 32
    assert len(env["PVO_API_SECRET"]) >= 32
    other = {}
    ensure_run_secrets(other)
    assert other["PVO_SESSION_SECRET"] != env["PVO_SESSION_SECRET"]


def test_demo_staff_mailboxes_only_without_a_real_smtp_server() -> None:
    from bot.launcher import use_demo_staff_mailboxes

    local: dict[str, str] = {"PVO_STAFF_EMAIL_OB": "ob@pvo.example"}
    use_demo_staff_mailboxes(local)
    assert local["PVO_STAFF_EMAIL_OB"] == "ob@pvo.example"  # a configured address stays
    assert local["PVO_STAFF_EMAIL_ZWB"].endswith("@pvo.example")
    real: dict[str, str] = {"PVO_SMTP_HOST": "smtp.example.nl"}
    use_demo_staff_mailboxes(real)
    assert "PVO_STAFF_EMAIL_ZWB" not in real and "PVO_STAFF_EMAIL_OB" not in real
