"""Login, bearer tokens, disabled accounts, rate limits."""

from __future__ import annotations

from datetime import timedelta

from api.security import issue_token
from kvo.timeutil import utc_now
from kvo.users import disable_user, get_user, reset_password
from tests.api.support import ADMIN_PASSWORD, STAFF_PASSWORD, Api, assert_error, make_api_settings


def test_token_and_me(api: Api) -> None:
    response = api.client.post("/auth/token", data={"username": "SAM", "password": STAFF_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    me = api.client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"id": me.json()["id"], "username": "sam", "role": "staff"}


def test_wrong_password_and_unknown_user_look_the_same(api: Api) -> None:
    wrong = api.client.post("/auth/token", data={"username": "sam", "password": "fout-fout-fout"})
    unknown = api.client.post("/auth/token", data={"username": "nobody", "password": "x" * 12})
    assert assert_error(wrong, 401, "login_failed") == assert_error(unknown, 401, "login_failed")


def test_token_validation_errors(api: Api) -> None:
    assert_error(api.client.post("/auth/token", data={"username": "sam"}), 422, "validation_error")
    assert_error(api.client.post("/auth/token", data={"username": "s" * 65, "password": "x"}), 422)


def test_bad_tokens_are_refused(api: Api) -> None:
    for header in (
        "Bearer nonsense",
        "Basic c2FtOnh4eA==",
        "Bearer " + "a" * 3000,
    ):
        assert_error(api.client.get("/auth/me", headers={"Authorization": header}), 401)
    with api.session_factory() as session:  # type: ignore[operator]
        user = get_user(session, 1) or get_user(session, 2)
    assert user is not None
    settings = make_api_settings()
    expired, _, _ = issue_token(user, settings, now=utc_now() - timedelta(minutes=16))
    assert_error(api.client.get("/auth/me", headers={"Authorization": f"Bearer {expired}"}), 401)
    # A dashboard session token is no bearer token.
    session_token, _, _ = issue_token(user, settings, kind="session")
    assert_error(
        api.client.get("/auth/me", headers={"Authorization": f"Bearer {session_token}"}), 401
    )
    # Signed with another secret.
    other = make_api_settings(secret="another-secret-" + "y" * 40)
    forged, _, _ = issue_token(user, other)
    assert_error(api.client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"}), 401)


def test_disable_and_reset_end_existing_tokens(api: Api) -> None:
    assert api.client.get("/auth/me", headers=api.staff).status_code == 200
    with api.session_factory() as session:  # type: ignore[operator]
        disable_user(session, "sam")
        session.commit()
    assert_error(api.client.get("/auth/me", headers=api.staff), 401)
    assert_error(
        api.client.post("/auth/token", data={"username": "sam", "password": STAFF_PASSWORD}), 401
    )
    with api.session_factory() as session:  # type: ignore[operator]
        reset_password(session, "sam", "nieuw-wachtwoord-12", settings=api.kvo_settings)
        session.commit()
    assert api.token("sam", "nieuw-wachtwoord-12")


def test_login_is_rate_limited_per_username(api: Api) -> None:
    for _ in range(5):
        api.client.post("/auth/token", data={"username": "anna", "password": "fout-fout-fout"})
    limited = api.client.post("/auth/token", data={"username": "anna", "password": ADMIN_PASSWORD})
    assert_error(limited, 429, "rate_limited")
    # Another username from the same client still gets in (the client limit is higher).
    assert api.token("sam", STAFF_PASSWORD)


def test_login_is_rate_limited_per_client(api: Api) -> None:
    # 2 logins by the fixture already; the client limit is 20 per 15 minutes.
    for number in range(18):
        api.client.post("/auth/token", data={"username": f"u{number}", "password": "x" * 12})
    assert_error(
        api.client.post("/auth/token", data={"username": "sam", "password": STAFF_PASSWORD}), 429
    )
