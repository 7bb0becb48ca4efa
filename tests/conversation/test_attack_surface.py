"""An anonymous attacker against the stack started as `make run` starts it (bot.launcher, honcho).

Ports, database and mail folder are the test's own, so a real `make run` is not disturbed. Also:
the engine refuses to start with unsafe settings.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support import ENGINE_PYTHON, MODEL, REPO, free_port, require

STARTUP_TIMEOUT_SECONDS = 300
FOREIGN_ORIGIN = "http://evil.example"


class RunningStack:
    def __init__(self, engine_url: str, actions_url: str, log: Path) -> None:
        self.engine_url = engine_url
        self.actions_url = actions_url
        self.log = log


@pytest.fixture(scope="module")
def make_run_stack(
    server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    require(MODEL.exists(), f"no trained model at {MODEL}: run `make train`")
    folder = tmp_path_factory.mktemp("make-run")
    log = folder / "launcher.log"
    engine_port, actions_port, api_port, smtp_port = (free_port() for _ in range(4))
    env = {
        key: value
        for key, value in server_env.items()
        if key not in ("ACTION_SERVER_TOKEN", "PVO_SESSION_SECRET", "RASA_ENABLE_API")
    }
    env.update(
        RASA_PORT=str(engine_port),
        PVO_ACTIONS_PORT=str(actions_port),
        PVO_API_PORT=str(api_port),
        PVO_SMTP_PORT=str(smtp_port),
        PVO_MAIL_SINK_DIR=str(folder / "mail"),
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(REPO / ".venv/bin/python"), "-m", "bot.launcher"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
    servers: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while "is ready" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make-run stack did not start:\n{log.read_text()[-4000:]}")
            time.sleep(1)
        # honcho starts each server in a session of its own: remember them to clean up.
        servers = psutil.Process(process.pid).children(recursive=True)
        yield RunningStack(
            f"http://127.0.0.1:{engine_port}", f"http://127.0.0.1:{actions_port}", log
        )
    finally:
        # As a service manager stops it: SIGTERM to the launcher alone, which stops every server.
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        left = _still_listening(engine_port, actions_port, api_port, smtp_port)
        for server in servers:  # left over only when the launcher failed to stop them
            with contextlib.suppress(psutil.Error):
                server.kill()
    if left:
        pytest.fail(
            f"ports {left} still open after the launcher stopped:\n{log.read_text()[-2000:]}"
        )


def _still_listening(*ports: int) -> list[int]:
    """The ports some server still listens on 30 s on."""
    deadline = time.monotonic() + 30
    while True:
        listening = []
        for port in ports:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    listening.append(port)
        if not listening or time.monotonic() > deadline:
            return listening
        time.sleep(0.5)


def test_the_stack_answers_visitors(make_run_stack: RunningStack) -> None:
    reply = httpx.post(
        f"{make_run_stack.engine_url}/webhooks/rest/webhook",
        json={"sender": "test-visitor", "message": "wat kost het keurmerk?"},
        timeout=30,
    )
    assert reply.status_code == 200 and reply.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/conversations/test-visitor/tracker"),
        ("GET", "/status"),
        ("PUT", "/model"),
        ("DELETE", "/model"),
        ("POST", "/model/parse"),
        ("POST", "/conversations/test-visitor/trigger_intent"),
    ],
)
def test_the_engine_api_is_closed(make_run_stack: RunningStack, method: str, path: str) -> None:
    response = httpx.request(
        method, f"{make_run_stack.engine_url}{path}", json={"text": "hallo"}, timeout=10
    )
    assert response.status_code in (404, 405), (method, path, response.status_code)
    # The bot still answers afterwards (a deleted model would make it silent).
    reply = httpx.post(
        f"{make_run_stack.engine_url}/webhooks/rest/webhook",
        json={"sender": "test-after-attack", "message": "hallo"},
        timeout=30,
    )
    assert reply.json(), "the bot went silent"


def test_the_action_server_refuses_anonymous_calls(make_run_stack: RunningStack) -> None:
    body = {"next_action": "action_check_status", "tracker": {"sender_id": "x"}, "domain": {}}
    response = httpx.post(f"{make_run_stack.actions_url}/webhook", json=body, timeout=10)
    assert response.status_code == 401
    assert "tracker" not in response.text


def test_a_foreign_origin_gets_no_cors_permission(make_run_stack: RunningStack) -> None:
    url = f"{make_run_stack.engine_url}/webhooks/rest/webhook"
    preflight = httpx.options(
        url,
        headers={"Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    allowed = preflight.headers.get("access-control-allow-origin", "")
    assert allowed not in ("*", FOREIGN_ORIGIN)
    post = httpx.post(
        url,
        json={"sender": "test-cors", "message": "hallo"},
        headers={"Origin": FOREIGN_ORIGIN},
        timeout=30,
    )
    assert post.headers.get("access-control-allow-origin", "") not in ("*", FOREIGN_ORIGIN)
    own = httpx.options(
        url,
        headers={"Origin": "http://localhost:8000", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert own.headers.get("access-control-allow-origin") == "http://localhost:8000"


def _outside_addresses() -> list[str]:
    try:
        hostname_addresses = socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        return []
    return [address for address in hostname_addresses if not address.startswith("127.")]


def test_the_servers_listen_on_loopback_only(make_run_stack: RunningStack) -> None:
    addresses = _outside_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback address to try")
    for url in (make_run_stack.engine_url, make_run_stack.actions_url):
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex((addresses[0], port)) != 0, url


def test_the_launcher_log_holds_no_secret(make_run_stack: RunningStack) -> None:
    text = make_run_stack.log.read_text(errors="replace")
    assert not re.search(r"Bearer [A-Za-z0-9_\-]{20,}", text)


# --- start-up refusals -----------------------------------------------------------------------


def _start_engine(env_changes: dict[str, str], endpoints: Path | None = None) -> tuple[int, str]:
    env = {
        **os.environ,
        "ACTION_SERVER_TOKEN": secrets.token_urlsafe(32),
        "PVO_SESSION_SECRET": secrets.token_urlsafe(32),
        "RASA_PORT": str(free_port()),
        "PYTHONWARNINGS": "ignore",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **env_changes,
    }
    env = {key: value for key, value in env.items() if value != "<unset>"}
    command = [str(ENGINE_PYTHON), "-m", "bot.engine"]
    if endpoints is not None:
        command += ["--endpoints", str(endpoints)]
    completed = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    return completed.returncode, completed.stdout + completed.stderr


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"ACTION_SERVER_TOKEN": "<unset>"}, "ACTION_SERVER_TOKEN"),
        ({"PVO_SESSION_SECRET": "kort"}, "PVO_SESSION_SECRET"),
        ({"RASA_ENABLE_API": "true", "RASA_API_TOKEN": "<unset>"}, "RASA_API_TOKEN"),
        ({"RASA_ENABLE_API": "true", "RASA_API_TOKEN": "changeme"}, "RASA_API_TOKEN"),
    ],
    ids=["no-action-token", "short-session-secret", "api-without-token", "api-default-token"],
)
def test_the_engine_refuses_unsafe_settings(changes: dict[str, str], named: str) -> None:
    require(ENGINE_PYTHON.exists(), f"the engine environment is missing ({ENGINE_PYTHON})")
    code, output = _start_engine(changes)
    assert code == 2, output[-2000:]
    assert named in output


def test_the_engine_refuses_a_tracker_store_rasa_could_not_load(tmp_path: Path) -> None:
    require(MODEL.exists(), f"no trained model at {MODEL}: run `make train`")
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        (REPO / "endpoints.yml")
        .read_text()
        .replace("bot.tracker_store.RedactingTrackerStore", "bot.tracker_store_typo.Redacting")
    )
    code, output = _start_engine({"PVO_ACTIONS_PORT": "5055"}, endpoints)
    assert code == 2, output[-3000:]
    assert "RedactingTrackerStore" in output
