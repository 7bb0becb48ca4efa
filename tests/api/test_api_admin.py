"""Lockouts, staff accounts and the audit log over the API; /health and /ready."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from api.app import create_app
from api.security import issue_token
from kvo.models import FailedAttempt
from kvo.timeutil import utc_now
from kvo.users import StaffUser
from tests.api.support import (
    Api,
    assert_error,
    http_ok_server,
    make_api_settings,
    make_kvo_settings,
)


def test_lockouts_list_and_clear(api: Api) -> None:
    now = utc_now()
    with api.session_factory() as session:  # type: ignore[operator]
        for minute in range(5):
            session.add(
                FailedAttempt(
                    reference_key="KVO-2024-0031",
                    conversation_key="c" * 64,
                    attempted_at=now - timedelta(minutes=minute),
                    client_key="d" * 64,
                )
            )
        session.commit()
    entries = api.client.get("/lockouts", headers=api.staff).json()
    assert {(e["scope"], e["key"]) for e in entries} >= {("reference", "KVO-2024-0031")}
    cleared = api.client.delete("/lockouts/reference/kvo-2024-0031", headers=api.staff)
    assert cleared.json() == {"removed": 5}
    assert api.client.get("/lockouts", headers=api.staff).json() == []
    assert_error(api.client.delete("/lockouts/reference/nonsense", headers=api.staff), 422)
    assert api.client.delete(f"/lockouts/key/{'c' * 12}", headers=api.staff).json() == {
        "removed": 0
    }
    assert_error(api.client.delete("/lockouts/key/xyz", headers=api.staff), 422)


def test_users_and_audit_are_admin_only(api: Api) -> None:
    assert_error(api.client.get("/users", headers=api.staff), 403, "admin_required")
    assert_error(api.client.get("/audit", headers=api.staff), 403, "admin_required")
    body = {"username": "nieuw", "password": "lang-genoeg-wachtwoord", "role": "staff"}
    assert_error(api.client.post("/users", json=body, headers=api.staff), 403)
    created = api.client.post("/users", json=body, headers=api.admin)
    assert created.status_code == 201 and created.json()["username"] == "nieuw"
    assert "password" not in created.text
    assert_error(api.client.post("/users", json=body, headers=api.admin), 409)
    assert_error(
        api.client.post("/users", json={**body, "password": "kort"}, headers=api.admin), 422
    )
    assert_error(
        api.client.post("/users", json={**body, "username": "Met Spatie"}, headers=api.admin), 422
    )
    token = api.token("nieuw", "lang-genoeg-wachtwoord")
    disabled = api.client.post("/users/nieuw/disable", headers=api.admin)
    assert disabled.json()["active"] is False
    assert_error(api.client.get("/auth/me", headers=token), 401)
    assert_error(api.client.post("/users/onbekend/disable", headers=api.admin), 404)
    audit = api.client.get("/audit", headers=api.admin).json()
    assert [e["action"] for e in audit["items"]][:2] == ["user.disable", "user.add"]
    assert all("wachtwoord" not in e["subject"] for e in audit["items"])
    assert_error(api.client.get("/audit", params={"page_size": 0}, headers=api.admin), 422)


def test_health_is_public_and_says_only_up(api: Api) -> None:
    response = api.client.get("/health")
    assert response.json() == {"status": "up"}


def test_health_says_down_without_a_database() -> None:
    settings = make_kvo_settings("postgresql://nobody@127.0.0.1:9/none", db_timeout_seconds=1)
    app = create_app(make_api_settings(), settings)
    token, _, _ = issue_token(StaffUser(1, "sam", "staff", True, 0), make_api_settings())
    with TestClient(app) as client:
        response = client.get("/health")
        leads = client.get("/leads", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503 and response.json() == {"status": "down"}
    assert_error(leads, 503, "database_unavailable")


def test_ready_needs_login_and_reports_each_part(api: Api) -> None:
    assert_error(api.client.get("/ready"), 401)
    down = api.client.get("/ready", headers=api.staff)
    assert down.status_code == 503
    assert down.json() == {
        "database": "ok",
        "engine": "down",
        "actions": "down",
        "status": "degraded",
    }
    with http_ok_server() as url:
        settings = api.client.app.state.api_settings  # type: ignore[attr-defined]
        api.client.app.state.api_settings = settings.model_copy(  # type: ignore[attr-defined]
            update={"engine_url": url, "actions_url": url}
        )
        up = api.client.get("/ready", headers=api.staff)
    assert up.status_code == 200
    assert up.json() == {"database": "ok", "engine": "ok", "actions": "ok", "status": "ok"}


def test_openapi_and_docs_need_login(api: Api) -> None:
    assert_error(api.client.get("/openapi.json"), 401)
    assert_error(api.client.get("/docs"), 401)
    schema = api.client.get("/openapi.json", headers=api.staff).json()
    assert "/leads" in schema["paths"] and not any(
        p.startswith("/dashboard") for p in schema["paths"]
    )


def test_cors_allows_only_configured_origins(api: Api) -> None:
    preflight = {"Access-Control-Request-Method": "GET"}
    allowed = api.client.options("/leads", headers={"Origin": "http://localhost:8000", **preflight})
    assert allowed.headers.get("access-control-allow-origin") == "http://localhost:8000"
    other = api.client.options("/leads", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers
