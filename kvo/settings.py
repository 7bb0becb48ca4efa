"""Runtime settings for the domain layer, read from environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = REPO_ROOT / "var" / "kvo.sqlite3"
DEFAULT_CONTACT_AREAS_FILE = REPO_ROOT / "kvo" / "data" / "contact_areas.yml"
DEFAULT_MAIL_SINK_DIR = REPO_ROOT / "var" / "mail"

# OWASP Password Storage Cheat Sheet: minimum argon2id configuration
# (m=19 MiB, t=2, p=1). Lower values are rejected, higher ones allowed.
ARGON2_MIN_TIME_COST = 2
ARGON2_MIN_MEMORY_COST_KIB = 19456
ARGON2_MIN_PARALLELISM = 1


def _env(*names: str) -> AliasChoices:
    """Accept the documented env var name and the plain field name (for code)."""
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Settings with safe defaults; every field can be set through the env."""

    model_config = SettingsConfigDict(
        env_file=REPO_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        populate_by_name=True,
    )

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        validation_alias=_env("DATABASE_URL", "database_url"),
    )
    db_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        le=300,
        validation_alias=_env("DB_TIMEOUT_SECONDS", "db_timeout_seconds"),
    )
    contact_email: str = Field(
        default="", validation_alias=_env("PVO_CONTACT_EMAIL", "contact_email")
    )
    contact_phone: str = Field(
        default="", validation_alias=_env("PVO_CONTACT_PHONE", "contact_phone")
    )
    contact_url: str = Field(
        default="https://www.pvo-brabant-zeeland.nl",
        validation_alias=_env("PVO_CONTACT_URL", "contact_url"),
    )
    # Public office hours ("ma-vr 09:00-17:00"): shown only when set, never a made-up default.
    office_hours: str = Field(
        default="",
        validation_alias=_env("PVO_OFFICE_HOURS", "office_hours"),
    )
    timezone: str = Field(
        default="Europe/Amsterdam", validation_alias=_env("PVO_TIMEZONE", "timezone")
    )
    lockout_max_attempts: int = Field(
        default=5,
        ge=1,
        le=1000,
        validation_alias=_env("PVO_LOCKOUT_MAX_ATTEMPTS", "lockout_max_attempts"),
    )
    lockout_window_minutes: int = Field(
        default=60,
        ge=1,
        le=7 * 24 * 60,
        validation_alias=_env("PVO_LOCKOUT_WINDOW_MINUTES", "lockout_window_minutes"),
    )
    argon2_time_cost: int = Field(
        default=ARGON2_MIN_TIME_COST,
        ge=ARGON2_MIN_TIME_COST,
        le=100,
        validation_alias=_env("PVO_ARGON2_TIME_COST", "argon2_time_cost"),
    )
    argon2_memory_cost_kib: int = Field(
        default=ARGON2_MIN_MEMORY_COST_KIB,
        ge=ARGON2_MIN_MEMORY_COST_KIB,
        le=4 * 1024 * 1024,
        validation_alias=_env("PVO_ARGON2_MEMORY_COST_KIB", "argon2_memory_cost_kib"),
    )
    argon2_parallelism: int = Field(
        default=ARGON2_MIN_PARALLELISM,
        ge=ARGON2_MIN_PARALLELISM,
        le=64,
        validation_alias=_env("PVO_ARGON2_PARALLELISM", "argon2_parallelism"),
    )

    # --- security (action server, lockout, retention) ---------------------------------------
    lockout_client_max_attempts: int = Field(
        default=10,
        ge=1,
        le=10000,
        validation_alias=_env("PVO_LOCKOUT_CLIENT_MAX_ATTEMPTS", "lockout_client_max_attempts"),
    )
    # Shared secret the engine sends as `Authorization: Bearer ...`; the action server refuses
    # to start without a long enough one (checked there, so other commands need none).
    action_server_token: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=_env("ACTION_SERVER_TOKEN", "action_server_token"),
    )
    actions_host: str = Field(
        default="127.0.0.1", validation_alias=_env("PVO_ACTIONS_HOST", "actions_host")
    )
    actions_port: int = Field(
        default=5055, ge=1, le=65535, validation_alias=_env("PVO_ACTIONS_PORT", "actions_port")
    )
    conversation_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        validation_alias=_env("PVO_CONVERSATION_RETENTION_DAYS", "conversation_retention_days"),
    )
    # Rasa's SQL tracker store and SQL event broker databases, for the retention purge only.
    tracker_db_url: str = Field(
        default="", validation_alias=_env("TRACKER_DB_URL", "tracker_db_url")
    )
    events_db_url: str = Field(default="", validation_alias=_env("EVENTS_DB_URL", "events_db_url"))

    # --- intake: routing, availability, limits, retention ----------------------------------
    contact_areas_file: Path = Field(
        default=DEFAULT_CONTACT_AREAS_FILE,
        validation_alias=_env("PVO_CONTACT_AREAS_FILE", "contact_areas_file"),
    )
    staff_email_zwb: str = Field(
        default="", validation_alias=_env("PVO_STAFF_EMAIL_ZWB", "staff_email_zwb")
    )
    staff_email_ob: str = Field(
        default="", validation_alias=_env("PVO_STAFF_EMAIL_OB", "staff_email_ob")
    )
    # How the intake takes place and what to prepare; shown in the confirmation only when set.
    intake_mode: Literal["", "op_locatie", "telefonisch", "video"] = Field(
        default="", validation_alias=_env("PVO_INTAKE_MODE", "intake_mode")
    )
    intake_preparation: str = Field(
        default="", validation_alias=_env("PVO_INTAKE_PREPARATION", "intake_preparation")
    )
    booking_horizon_days: int = Field(
        default=90,
        ge=7,
        le=366,
        validation_alias=_env("PVO_BOOKING_HORIZON_DAYS", "booking_horizon_days"),
    )
    intake_draft_ttl_minutes: int = Field(
        default=120,
        ge=5,
        le=7 * 24 * 60,
        validation_alias=_env("PVO_INTAKE_DRAFT_TTL_MINUTES", "intake_draft_ttl_minutes"),
    )
    bookings_per_client_per_day: int = Field(
        default=3,
        ge=1,
        le=1000,
        validation_alias=_env("PVO_BOOKINGS_PER_CLIENT_PER_DAY", "bookings_per_client_per_day"),
    )
    bookings_per_email_per_day: int = Field(
        default=2,
        ge=1,
        le=1000,
        validation_alias=_env("PVO_BOOKINGS_PER_EMAIL_PER_DAY", "bookings_per_email_per_day"),
    )
    callbacks_per_client_per_day: int = Field(
        default=3,
        ge=1,
        le=1000,
        validation_alias=_env("PVO_CALLBACKS_PER_CLIENT_PER_DAY", "callbacks_per_client_per_day"),
    )
    callbacks_per_email_per_day: int = Field(
        default=2,
        ge=1,
        le=1000,
        validation_alias=_env("PVO_CALLBACKS_PER_EMAIL_PER_DAY", "callbacks_per_email_per_day"),
    )
    lead_retention_months: int = Field(
        default=12,
        ge=1,
        le=120,
        validation_alias=_env("PVO_LEAD_RETENTION_MONTHS", "lead_retention_months"),
    )
    # "binnen twee werkdagen": shown in the callback confirmation only when set (never invented).
    callback_response_time: str = Field(
        default="",
        validation_alias=_env("PVO_CALLBACK_RESPONSE_TIME", "callback_response_time"),
    )
    reminder_hour: int = Field(
        default=9, ge=0, le=23, validation_alias=_env("PVO_REMINDER_HOUR", "reminder_hour")
    )

    # --- mail: outbox worker and SMTP ------------------------------------------------------
    # Defaults point at the local sink (`python -m kvo mail sink`): nothing leaves the machine.
    mail_from: str = Field(
        default="PVO-assistent <pvo-assistent@localhost>",
        validation_alias=_env("PVO_MAIL_FROM", "mail_from"),
    )
    smtp_host: str = Field(default="127.0.0.1", validation_alias=_env("PVO_SMTP_HOST", "smtp_host"))
    smtp_port: int = Field(
        default=8025, ge=1, le=65535, validation_alias=_env("PVO_SMTP_PORT", "smtp_port")
    )
    smtp_user: str = Field(default="", validation_alias=_env("PVO_SMTP_USER", "smtp_user"))
    smtp_password: SecretStr = Field(
        default=SecretStr(""), validation_alias=_env("PVO_SMTP_PASSWORD", "smtp_password")
    )
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        default="none", validation_alias=_env("PVO_SMTP_SECURITY", "smtp_security")
    )
    smtp_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        validation_alias=_env("PVO_SMTP_TIMEOUT_SECONDS", "smtp_timeout_seconds"),
    )
    mail_max_attempts: int = Field(
        default=8, ge=1, le=100, validation_alias=_env("PVO_MAIL_MAX_ATTEMPTS", "mail_max_attempts")
    )
    mail_retry_base_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86400,
        validation_alias=_env("PVO_MAIL_RETRY_BASE_SECONDS", "mail_retry_base_seconds"),
    )
    mail_retry_max_seconds: float = Field(
        default=3600.0,
        ge=0,
        le=7 * 86400,
        validation_alias=_env("PVO_MAIL_RETRY_MAX_SECONDS", "mail_retry_max_seconds"),
    )
    mail_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        validation_alias=_env("PVO_MAIL_POLL_SECONDS", "mail_poll_seconds"),
    )
    mail_sink_dir: Path = Field(
        default=DEFAULT_MAIL_SINK_DIR, validation_alias=_env("PVO_MAIL_SINK_DIR", "mail_sink_dir")
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone: {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _non_empty_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("DATABASE_URL must not be empty")
        return value

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def staff_email_for(self, contact_area_code: str) -> str:
        """PVO's intake mailbox of a contact area ("zwb" or "ob"); empty when not configured."""
        return {"zwb": self.staff_email_zwb, "ob": self.staff_email_ob}.get(contact_area_code, "")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; call ``get_settings.cache_clear()`` after env changes."""
    return Settings()
