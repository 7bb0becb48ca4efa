"""The public web part: demo page, privacy page and widget assets (api/web.py)."""

from __future__ import annotations

import gzip
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import web
from kvo.settings import get_settings
from tests.support import add_report, require


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    app.include_router(web.router)
    return TestClient(app)


def test_demo_page_has_the_button_script_and_config(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="nl">' in html
    assert '<script src="/widget/pvo-chat.js" defer></script>' in html
    assert '"server": "http://localhost:5005"' in html
    assert '"feedbackUrl": "http://testserver/feedback"' in html


def test_demo_page_takes_the_chat_server_from_settings(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PVO_CHAT_SERVER_URL", "https://chat.example.nl")
    get_settings.cache_clear()
    try:
        assert '"server": "https://chat.example.nl"' in client.get("/").text
    finally:
        get_settings.cache_clear()


def test_widget_script_carries_its_texts(client: TestClient) -> None:
    response = client.get("/widget/pvo-chat.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["x-content-type-options"] == "nosniff"
    first_line, rest = response.text.split("\n", 1)
    assert first_line.startswith("window.PVOChatStrings = ")
    strings = json.loads(first_line.removeprefix("window.PVOChatStrings = ").rstrip(";"))
    assert strings["launcher"] == "Stel uw vraag aan PVO"
    assert "PVO-assistent chat button" in rest


def test_strings_cannot_close_the_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "widget_strings", lambda: {"launcher": "</script><b>x"})
    assert "</script>" not in web.widget_script().split("\n", 1)[0]


def test_stylesheet_served(client: TestClient) -> None:
    response = client.get("/widget/pvo-chat.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_vendored_socket_io_served_when_built(client: TestClient) -> None:
    path = web.ASSETS["vendor/socket.io.min.js"][0]
    if not path.is_file():
        pytest.skip("socket.io client not vendored yet: run `make widget`")
    response = client.get("/widget/vendor/socket.io.min.js")
    assert response.status_code == 200
    assert "Socket.IO" in response.text[:200]
    assert client.get("/widget/vendor/socket.io.LICENSE").status_code == 200


@pytest.mark.parametrize(
    "name",
    ["../web.py", "..%2Fweb.py", "vendor/../../web.py", "pvo-chat.css/..", "nope.js", "static"],
)
def test_only_listed_assets_are_served(client: TestClient, name: str) -> None:
    assert client.get(f"/widget/{name}").status_code == 404


def test_privacy_page_uses_the_configured_periods(client: TestClient) -> None:
    response = client.get("/widget/privacy")
    assert response.status_code == 200
    settings = get_settings()
    assert f"{settings.conversation_retention_days} dagen" in response.text
    assert f"{settings.lead_retention_months} maanden" in response.text


def test_widget_strings_file_is_flat_text() -> None:
    strings = web.widget_strings()
    assert strings and all(isinstance(value, str) and value for value in strings.values())


def test_widget_size_within_budget() -> None:
    """Script with texts + CSS + socket.io client, gzip: reported, and at most 50 KB."""
    socket_io = web.ASSETS["vendor/socket.io.min.js"][0]
    require(socket_io.is_file(), "socket.io client not vendored: run `make widget`")
    parts = {
        "pvo-chat.js": web.widget_script().encode(),
        "pvo-chat.css": web.ASSETS["pvo-chat.css"][0].read_bytes(),
        "socket.io.min.js": socket_io.read_bytes(),
    }
    sizes = {name: len(gzip.compress(data, 9)) for name, data in parts.items()}
    total = sum(sizes.values())
    add_report(
        "Chat widget size (gzip): "
        + ", ".join(f"{name} {size / 1024:.1f} KB" for name, size in sizes.items())
        + f"; total {total / 1024:.1f} KB (budget 50 KB)"
    )
    assert total <= 50 * 1024


def test_pages_carry_a_content_security_policy(client: TestClient) -> None:
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script nonce="{nonce}">' in response.text
    assert "connect-src 'self' http://localhost:5005 ws://localhost:5005" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy
    # A fresh nonce per response.
    assert client.get("/").headers["content-security-policy"] != policy
    assert "script-src 'self'" in client.get("/widget/privacy").headers["content-security-policy"]


def test_socket_origins_for_the_policy() -> None:
    assert web._socket_origins("https://chat.example.nl/") == (
        "https://chat.example.nl wss://chat.example.nl"
    )
    assert web._socket_origins("javascript:alert(1)") == ""
    assert web._socket_origins("http://a.nl;script-src *") == ""
