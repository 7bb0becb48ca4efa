"""Engine-side settings, read from the environment (standard library only).

The engine runs on Rasa's Python 3.10 environment, which has pydantic 1 and none of our app
packages, so kvo.settings is out of reach here. Names match kvo/settings.py where both sides read
the same variable (PVO_CONTACT_*, PVO_OFFICE_HOURS, PVO_CALLBACK_RESPONSE_TIME).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

DEFAULT_ALLOWED_ORIGINS = "http://localhost:8000,http://127.0.0.1:8000"
MIN_SECRET_CHARS = 32
# Placeholders people copy from examples; a token equal to one of these is no secret.
WEAK_TOKENS = frozenset({"changeme", "change-me", "secret", "token", "rasa", "rasaxtoken", "test"})
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")
_PERIOD_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


class SettingError(ValueError):
    """A setting has a value the engine cannot run with; the message names the variable."""


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingError(f"{name} must be between {low} and {high}, got {value}")
    return value


def parse_rate(text: str, name: str = "PVO_RATE_LIMIT") -> tuple[int, float]:
    """ "20/minute" -> (20, 60.0): at most 20 messages per 60 seconds."""
    match = _RATE.match(text or "")
    if not match or int(match[1]) < 1:
        raise SettingError(f"{name} must look like '20/minute', got {text!r}")
    return int(match[1]), _PERIOD_SECONDS[match[2]]


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class EngineSettings:
    host: str
    port: int
    allowed_origins: tuple[str, ...]
    max_message_chars: int
    max_body_bytes: int
    rate_limit: tuple[int, float]
    long_message_rate: tuple[int, float]
    reply_deadline_seconds: float
    session_secret: str
    enable_api: bool
    api_token: str
    action_server_token: str
    contact_phone: str
    contact_email: str
    office_hours: str
    callback_response_time: str
    contact_url: str
    # Retention periods, named in the privacy answer; the same settings drive the purge commands.
    conversation_retention_days: int
    lead_retention_months: int

    @classmethod
    def from_env(cls) -> EngineSettings:
        origins = os.environ.get("PVO_ALLOWED_ORIGINS", DEFAULT_ALLOWED_ORIGINS)
        return cls(
            host=os.environ.get("PVO_ENGINE_HOST", "127.0.0.1").strip() or "127.0.0.1",
            port=_int("RASA_PORT", 5005, 1, 65535),
            allowed_origins=tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip()),
            max_message_chars=_int("PVO_MAX_MESSAGE_CHARS", 1000, 1, 100_000),
            max_body_bytes=_int("PVO_MAX_BODY_BYTES", 64 * 1024, 1024, 10 * 1024 * 1024),
            rate_limit=parse_rate(os.environ.get("PVO_RATE_LIMIT", "20/minute")),
            long_message_rate=parse_rate(
                os.environ.get("PVO_LONG_MESSAGE_RATE", "30/minute"), "PVO_LONG_MESSAGE_RATE"
            ),
            reply_deadline_seconds=_float("PVO_REPLY_DEADLINE_SECONDS", 3.0, 0.1, 60.0),
            session_secret=os.environ.get("PVO_SESSION_SECRET", "").strip(),
            enable_api=_flag("RASA_ENABLE_API"),
            api_token=os.environ.get("RASA_API_TOKEN", "").strip(),
            action_server_token=os.environ.get("ACTION_SERVER_TOKEN", "").strip(),
            contact_phone=os.environ.get("PVO_CONTACT_PHONE", "").strip(),
            contact_email=os.environ.get("PVO_CONTACT_EMAIL", "").strip(),
            office_hours=os.environ.get("PVO_OFFICE_HOURS", "").strip(),
            callback_response_time=os.environ.get("PVO_CALLBACK_RESPONSE_TIME", "").strip(),
            contact_url=os.environ.get("PVO_CONTACT_URL", "").strip()
            or "https://www.pvo-brabant-zeeland.nl",
            conversation_retention_days=_int("PVO_CONVERSATION_RETENTION_DAYS", 30, 1, 3650),
            lead_retention_months=_int("PVO_LEAD_RETENTION_MONTHS", 12, 1, 120),
        )


def check_secret(name: str, value: str) -> None:
    """Raise SettingError unless `value` is long enough and not a known placeholder."""
    if not value:
        raise SettingError(f"{name} is not set; the engine does not start without it.")
    if len(value) < MIN_SECRET_CHARS or value.lower() in WEAK_TOKENS:
        raise SettingError(
            f"{name} is too short or a placeholder; use at least {MIN_SECRET_CHARS} random"
            " characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
