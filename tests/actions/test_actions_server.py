"""`python -m actions.server`: answers only the engine, generic errors, exactly one warning silenced.

The server runs as a real process (as in production); requests go over HTTP.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from rasa_sdk import utils as sdk_utils
from rasa_sdk.executor import ActionExecutor

from actions.server import ACTIONS_PACKAGE, MIN_TOKEN_LENGTH, silence_version_warning
from tests.support import ENGINE_PYTHON, REPO, ActionServer, require, running_action_server

MARKER = "ZEBRA-MARKER-4711"
VERSION_WARNING = "Your versions of rasa and rasa_sdk"
OLD_RASA_WARNING = "old version of rasa"


def _minimal_tracker(text: str = "hallo") -> dict[str, Any]:
    message = {"text": text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}
    return {
        "sender_id": "server-test",
        "slots": {"reference_code": None, "access_code": None, "requested_slot": None},
        "latest_message": message,
        "events": [{"event": "user", "text": text, "parse_data": message}],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }


@pytest.fixture(scope="module")
def server(
    sqlite_demo_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ActionServer]:
    folder = tmp_path_factory.mktemp("action-server")
    database = folder / "kvo.sqlite3"
    shutil.copy(sqlite_demo_template, database)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PVO_", "ACTION_SERVER")) and key != "PYTHONWARNINGS"
    }
    env["DATABASE_URL"] = f"sqlite:///{database}"
    with running_action_server(env, folder / "actions.log") as running:
        yield running


def _post(server: ActionServer, body: object, **kwargs: Any) -> httpx.Response:
    return httpx.post(server.webhook, json=body, headers=server.auth, timeout=30, **kwargs)


def _call(name: str, tracker: object, domain: object) -> dict[str, Any]:
    return {"next_action": name, "tracker": tracker, "domain": domain, "version": "3.6.21"}


# --- start-up -----------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "   ", "kort", "x" * (MIN_TOKEN_LENGTH - 1)], ids=repr)
def test_it_refuses_to_start_without_a_real_token(token: str | None, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "ACTION_SERVER_TOKEN"}
    if token is not None:
        env["ACTION_SERVER_TOKEN"] = token
    env["PVO_ACTIONS_PORT"] = "9"  # never reached: it must stop before binding
    completed = subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("Fout: ACTION_SERVER_TOKEN")
    assert "Traceback" not in completed.stderr


def test_an_invalid_port_is_one_clear_line(tmp_path: Path) -> None:
    env = dict(os.environ, ACTION_SERVER_TOKEN="t" * 40, PVO_ACTIONS_PORT="geen-poort")
    completed = subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert completed.stderr.strip().splitlines() == [
        "Fout: ongeldige instelling (PVO_ACTIONS_PORT); de action server start niet."
    ]


# --- who may call it ----------------------------------------------------------------------------


def test_health_is_open(server: ActionServer) -> None:
    response = httpx.get(f"{server.url}/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong-token-wrong-token-wrong-token",
        "Basic {token}",
        "Bearer {token}x",
        "Bearer x{token}",
        "Bearer {token_head}",
        "Bearer {token}\u00e9",
        "{token}",
    ],
)
@pytest.mark.parametrize(("method", "path"), [("POST", "/webhook"), ("GET", "/actions")])
def test_without_the_token_the_answer_is_401(
    server: ActionServer, authorization: str | None, method: str, path: str
) -> None:
    headers: dict[str, bytes] = {}
    if authorization is not None:
        value = authorization.format(token=server.token, token_head=server.token[:-1])
        headers["Authorization"] = value.encode("utf-8")
    body = _call("action_handoff", _minimal_tracker(), {})
    response = httpx.request(method, f"{server.url}{path}", json=body, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_preflight_and_cors_get_nothing(server: ActionServer) -> None:
    origin = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    preflight = httpx.options(server.webhook, headers=origin, timeout=10)
    assert preflight.status_code == 401
    allowed = httpx.get(f"{server.url}/actions", headers={**origin, **server.auth}, timeout=10)
    assert allowed.status_code == 200
    assert "access-control-allow-origin" not in allowed.headers


def test_with_the_token_it_serves_the_actions(server: ActionServer, domain: dict[str, Any]) -> None:
    listed = httpx.get(f"{server.url}/actions", headers=server.auth, timeout=10)
    assert listed.status_code == 200
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    assert {item["name"] for item in listed.json()} == set(executor.actions)

    answered = _post(server, _call("action_handoff", _minimal_tracker(), domain))
    assert answered.status_code == 200, answered.text
    assert answered.json()["responses"][0]["response"].startswith("utter_handoff")
    lower_case_scheme = httpx.post(
        server.webhook,
        json=_call("action_handoff", _minimal_tracker(), domain),
        headers={"authorization": f"bearer {server.token}"},
        timeout=30,
    )
    assert lower_case_scheme.status_code == 200


def _other_local_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent for UDP connect
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_it_listens_on_loopback_only_with_one_process(server: ActionServer) -> None:
    process = psutil.Process(server.pid)
    assert process.children(recursive=True) == []  # one Sanic worker, in this process
    listening = {
        (conn.laddr.ip, conn.laddr.port)
        for conn in process.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    }
    port = int(server.url.rsplit(":", 1)[1])
    assert listening == {("127.0.0.1", port)}
    other = _other_local_address()
    if other is not None:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{other}:{port}/health", timeout=3)


# --- errors say nothing about the request -----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        # Not JSON at all.
        (f'{{"next_action": "action_clarify", "tracker": "{MARKER}"', 400),
        # Broken trackers: rasa-sdk's handler answered these with the whole request.
        (_call("action_clarify", MARKER, {}), 500),
        (
            _call(
                "validate_status_form",
                {"sender_id": MARKER, "slots": MARKER},
                {"forms": {"status_form": {"required_slots": ["reference_code"]}}},
            ),
            500,
        ),
        (
            _call(
                "validate_status_form",
                {"sender_id": "x", "slots": {}, "events": [MARKER, {"text": MARKER}]},
                {"forms": {"status_form": {"required_slots": ["reference_code"]}}},
            ),
            500,
        ),
        ({"next_action": "action_check_status", MARKER: MARKER}, 500),
        # An action that does not exist: the name is not echoed.
        (_call(f"action_{MARKER}", _minimal_tracker(MARKER), {}), 404),
    ],
)
def test_error_answers_and_logs_hold_no_request_content(
    server: ActionServer, body: object, status: int
) -> None:
    if isinstance(body, str):
        response = httpx.post(server.webhook, content=body, headers=server.auth, timeout=30)
    else:
        response = _post(server, body)
    assert response.status_code == status, response.text
    assert MARKER not in response.text
    assert set(response.json()) <= {"error"}
    log = server.log.read_text()
    assert MARKER not in log
    if status == 500:
        assert "action server error:" in log


def test_only_the_version_mismatch_warning_is_silenced(
    server: ActionServer, domain: dict[str, Any]
) -> None:
    mismatch = _post(server, _call("action_handoff", _minimal_tracker(), domain))
    assert mismatch.status_code == 200
    assert VERSION_WARNING not in server.log.read_text()
    without_version = {"next_action": "action_handoff", "tracker": _minimal_tracker()}
    assert _post(server, {**without_version, "domain": domain}).status_code == 200
    assert OLD_RASA_WARNING in server.log.read_text()


def test_the_warning_filter_is_exact() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_version_warning()
        sdk_utils.check_version_compatibility("3.6.21")  # Rasa 3.6 vs rasa-sdk 3.21
        assert caught == []
        sdk_utils.check_version_compatibility(None)  # another rasa-sdk warning
        warnings.warn(f"Your versions of rasa and rasa_sdk {VERSION_WARNING}", stacklevel=1)
        warnings.warn(
            "Your versions of rasa and rasa_sdk might not be compatible",
            DeprecationWarning,
            stacklevel=1,
        )
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 3
    assert OLD_RASA_WARNING in messages[0]


_READ_ENDPOINTS = """
import sys
from rasa.core.utils import read_endpoints_from_path
endpoints = read_endpoints_from_path(sys.argv[1])
print(endpoints.action.headers["Authorization"])
"""


@pytest.mark.parametrize("path", ["endpoints.yml", "deploy/endpoints.production.yml"])
def test_the_endpoint_files_send_the_token(path: str) -> None:
    # Read by Rasa itself: it fills ${...} only in unquoted YAML values.
    require(ENGINE_PYTHON.exists(), f"the engine environment is missing ({ENGINE_PYTHON})")
    token = "t0ken-" + "x" * 40
    placeholders = {
        name: "5432" if name.endswith("PORT") or name.endswith("_DB") else "placeholder"
        for name in (
            "ACTION_SERVER_URL", "TRACKER_DB_HOST", "TRACKER_DB_PORT", "TRACKER_DB_NAME",
            "TRACKER_DB_USER", "TRACKER_DB_PASSWORD", "REDIS_HOST", "REDIS_PORT",
            "REDIS_LOCK_DB", "REDIS_PASSWORD",
        )
    }  # fmt: skip
    env = {**os.environ, **placeholders, "ACTION_SERVER_TOKEN": token}
    completed = subprocess.run(
        [str(ENGINE_PYTHON), "-c", _READ_ENDPOINTS, path],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip().splitlines()[-1] == f"Bearer {token}"
