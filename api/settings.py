"""Settings of the API server, from PVO_API_* environment variables (one BaseSettings)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kvo.settings import REPO_ROOT

MIN_SECRET_LENGTH = 32
DEFAULT_ORIGINS = "http://localhost:8000,http://127.0.0.1:8000"


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PVO_API_",
        env_file=REPO_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Signs bearer tokens and dashboard sessions. Required in production; elsewhere a random
    # one per process (the launcher passes one per run), so tokens die with a restart.
    secret: SecretStr = SecretStr("")
    token_minutes: int = Field(default=15, ge=1, le=120)
    session_minutes: int = Field(default=480, ge=5, le=24 * 60)
    # The shared origin list of the chat channels (PVO_ALLOWED_ORIGINS), also for CORS here.
    allowed_origins: str = Field(
        default=DEFAULT_ORIGINS,
        validation_alias=AliasChoices("PVO_ALLOWED_ORIGINS", "allowed_origins"),
    )
    login_limit_per_user: str = "5/15minutes"
    login_limit_per_client: str = "20/15minutes"
    # POST /feedback (public): votes per client address.
    feedback_limit_per_client: str = "30/minute"
    # Verifies the chat session ids the engine's socket.io channel issued (shared secret).
    session_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("PVO_SESSION_SECRET", "session_secret"),
    )
    # Where /ready looks: the engine's channel port and the action server.
    engine_url: str = "http://127.0.0.1:5005"
    actions_url: str = "http://127.0.0.1:5055"
    ready_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # A reverse proxy terminates TLS in production: cookies must be Secure there.
    secure_cookies: bool | None = None

    @model_validator(mode="after")
    def _secret_rules(self) -> ApiSettings:
        value = self.secret.get_secret_value()
        if self.environment == "production" and len(value) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"PVO_API_SECRET with at least {MIN_SECRET_LENGTH} characters is required"
                " in production"
            )
        if not value:
            self.secret = SecretStr(secrets.token_urlsafe(48))
        elif len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"PVO_API_SECRET needs at least {MIN_SECRET_LENGTH} characters")
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def cookie_secure(self) -> bool:
        return self.is_production if self.secure_cookies is None else self.secure_cookies

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    return ApiSettings()
