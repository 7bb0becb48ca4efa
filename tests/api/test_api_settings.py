"""API settings (PVO_API_*) and `python -m api` as the launcher starts it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from pydantic import ValidationError

from api.settings import ApiSettings
from kvo import migrate
from tests.support import REPO, free_port


def test_secret_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PVO_API_"):
            monkeypatch.delenv(name)
    development = ApiSettings(_env_file=None)  # type: ignore[call-arg]
    assert len(development.secret.get_secret_value()) >= 32  # random per process
    assert ApiSettings(_env_file=None).secret != development.secret  # type: ignore[call-arg]
    monkeypatch.setenv("PVO_API_ENVIRONMENT", "production")
    with pytest.raises(ValidationError):
        ApiSettings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("PVO_API_SECRET", "s" * 40)
    production = ApiSettings(_env_file=None)  # type: ignore[call-arg]
    assert production.is_production and production.cookie_secure
    monkeypatch.setenv("PVO_API_SECRET", "short")
    with pytest.raises(ValidationError):
        ApiSettings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("PVO_ALLOWED_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("PVO_API_SECRET", "s" * 40)
    assert ApiSettings(_env_file=None).origins == ["https://a.example", "https://b.example"]  # type: ignore[call-arg]


def test_python_m_api_serves_on_the_configured_port(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/kvo.sqlite3"
    migrate.upgrade(url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PVO_API_HOST": "127.0.0.1",
        "PVO_API_PORT": str(port),
        "PVO_API_ENVIRONMENT": "development",
    }
    env.pop("PVO_API_SECRET", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "api"], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "API did not start"
                time.sleep(0.3)
        assert response.json() == {"status": "up"}
        assert "server" not in response.headers
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_production_without_secret_refuses_to_start() -> None:
    env = {**os.environ, "PVO_API_ENVIRONMENT": "production"}
    env.pop("PVO_API_SECRET", None)
    result = subprocess.run(
        [sys.executable, "-m", "api"], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "PVO_API" in result.stderr and "Traceback" not in result.stderr
