"""The whole stack on free ports plus one headless Chromium session, for the browser tests.

The action server and the Rasa server are the conversation tests' fixtures (same database with
demo data, same trained model); the API/web server is started beside them. The browser is
Debian's `chromium` driven by Playwright (Playwright's own browser download cannot work here);
without it the tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conversation.conftest import (  # noqa: F401  (fixtures used by name)
    action_server,
    chat_database_url,
    rasa_url,
    server_logs,
    stop,
    wait_for,
)
from tests.support import (
    REPO,
    ActionServer,
    Engine,
    engine_env,
    free_port,
    require,
    running_engine,
)

ARTIFACTS = REPO / "var" / "artifacts" / "browser"
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"
API_APP = REPO / "api" / "app.py"
# No network beyond localhost: no updates, sync, metrics or first-run pages.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-client-side-phishing-detection",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.model)


def chromium_path() -> str | None:
    for candidate in (os.environ.get("PVO_CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@pytest.fixture(scope="session")
def api_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def server_env(chat_database_url: str, api_port: int) -> dict[str, str]:  # noqa: F811
    """The conversation tests' environment, plus what the browser's origin needs."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=chat_database_url,
        PYTHONWARNINGS="ignore",
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        PVO_ALLOWED_ORIGINS=f"http://127.0.0.1:{api_port}",
        PVO_SESSION_SECRET=secrets.token_urlsafe(32),
        # One browser is one client: the whole session's messages within a minute or two.
        PVO_RATE_LIMIT="200/minute",
        EVENTS_DB_URL=chat_database_url.replace("kvo.sqlite3", "events.sqlite3"),
    )
    return env


@pytest.fixture(scope="session")
def endpoints_file(
    action_server: ActionServer,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The repo's endpoints (NLG, redacting tracker store that marks `sensitive_next`) pointed at
    the test action server."""
    endpoints = yaml.safe_load((REPO / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"] = {
        "url": action_server.webhook,
        "headers": {"Authorization": f"Bearer {action_server.token}"},
    }
    path = tmp_path_factory.mktemp("rasa") / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def engine(
    endpoints_file: Path,
    server_env: dict[str, str],
    server_logs: dict[str, Path],  # noqa: F811
    action_server: ActionServer,  # noqa: F811
) -> Iterator[Engine]:
    """`python -m bot.engine` sharing the session secret with the API (it checks feedback ids)."""
    env = engine_env(
        server_env, action_server.token, PVO_SESSION_SECRET=server_env["PVO_SESSION_SECRET"]
    )
    with running_engine(env, endpoints_file, server_logs["rasa"]) as running:
        yield running


@pytest.fixture(scope="session")
def api_url(
    server_env: dict[str, str],
    rasa_url: str,  # noqa: F811
    api_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """`python -m api` (demo page, widget, staff API) on a free port, talking to the test engine."""
    log = tmp_path_factory.mktemp("api-logs") / "api.log"
    env = {
        **server_env,
        "PVO_API_HOST": "127.0.0.1",
        "PVO_API_PORT": str(api_port),
        "PVO_CHAT_SERVER_URL": rasa_url,
    }
    if API_APP.exists():
        command = [sys.executable, "-m", "api"]
    else:
        # Until the staff API exists: the web router alone (demo page and widget).
        command = [
            sys.executable, "-m", "uvicorn", "tests.browser.web_only:app",
            "--host", "127.0.0.1", "--port", str(api_port),
        ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{api_port}"
        wait_for(f"{url}/", "pvo-chat.js", process, log)
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    require(path is not None, "no Chromium found (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe_script() -> Path:
    require(AXE_SCRIPT.exists(), "axe-core is not installed: run `make widget` (npm ci)")
    return AXE_SCRIPT
