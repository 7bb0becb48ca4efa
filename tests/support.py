"""Helpers shared by the test packages: paths, the CI rule for required services, reports."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
ENGINE_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
RASA = REPO / ".venv-rasa" / "bin" / "rasa"
MODEL = REPO / "models" / "pvo-assistent.tar.gz"

# Text blocks tests want shown after the run (e.g. the NLU confusion summary).
REPORTS: list[str] = []


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing; under CI=true a missing prerequisite fails instead."""
    if condition:
        return
    if on_ci():
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


def add_report(text: str) -> None:
    REPORTS.append(text)


# --- the action server, started as production starts it ----------------------------------------

ACTION_SERVER_START_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class ActionServer:
    url: str  # http://127.0.0.1:<port>, without a path
    token: str
    log: Path
    pid: int

    @property
    def webhook(self) -> str:
        return f"{self.url}/webhook"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def running_action_server(
    env: dict[str, str], log: Path, port: int | None = None, token: str | None = None
) -> Iterator[ActionServer]:
    """`python -m actions.server` on a free port with a fresh token; stopped afterwards."""
    port = port or free_port()
    token = token or secrets.token_urlsafe(32)
    server_env = {
        **env,
        "ACTION_SERVER_TOKEN": token,
        "PVO_ACTIONS_HOST": "127.0.0.1",
        "PVO_ACTIONS_PORT": str(port),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "actions.server"],
            cwd=REPO,
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + ACTION_SERVER_START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"action server exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"action server not ready; log:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield ActionServer(url=url, token=token, log=log, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


# --- the engine, started as production starts it (`python -m bot.engine`) ---------------------

ENGINE_START_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Engine:
    url: str  # http://127.0.0.1:<port>
    log: Path
    process: subprocess.Popen[bytes]
    api_token: str | None

    @property
    def webhook(self) -> str:
        return f"{self.url}/webhooks/rest/webhook"

    def api(self, path: str) -> str:
        """An HTTP API URL with the token (only when the engine was started with the API on)."""
        separator = "&" if "?" in path else "?"
        return f"{self.url}{path}{separator}token={self.api_token}"


def engine_env(base: dict[str, str], action_server_token: str, **extra: str) -> dict[str, str]:
    """The environment the engine needs, with fresh secrets."""
    return {
        **base,
        "ACTION_SERVER_TOKEN": action_server_token,
        "PVO_SESSION_SECRET": secrets.token_urlsafe(32),
        "PYTHONWARNINGS": "ignore",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
        **extra,
    }


@contextmanager
def running_engine(
    env: dict[str, str], endpoints: Path, log: Path, *, enable_api: bool = False
) -> Iterator[Engine]:
    """`python -m bot.engine` on a free port; stopped afterwards."""
    require(MODEL.exists(), f"no trained model at {MODEL}: run `make train` (make test does)")
    port = free_port()
    api_token = secrets.token_urlsafe(32) if enable_api else None
    engine_environment = {**env, "RASA_PORT": str(port), "PVO_ENGINE_HOST": "127.0.0.1"}
    if api_token:
        engine_environment.update(RASA_ENABLE_API="true", RASA_API_TOKEN=api_token)
    command = [str(ENGINE_PYTHON), "-m", "bot.engine", "--endpoints", str(endpoints)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=engine_environment, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + ENGINE_START_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"engine exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/webhooks/rest/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"engine not ready; log:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        yield Engine(url=url, log=log, process=process, api_token=api_token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
