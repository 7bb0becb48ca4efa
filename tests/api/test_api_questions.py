"""Staff API "What visitors ask" (list, stats, export, dashboard page) and the public
POST /feedback: origin, signed session, known topic, bounded input, rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from api.app import create_app
from api.settings import ApiSettings
from bot.event_rows import event_row
from bot.session_ids import issue_session_id
from kvo import migrate
from kvo import visitor_questions as vq
from kvo.db import make_engine, make_sessionmaker
from kvo.models import UserRole
from kvo.settings import Settings
from kvo.users import add_user

ORIGIN = "http://localhost:8000"
SESSION_SECRET = "chat-session-secret-" + "s" * 30
API_SECRET = "api-test-secret-" + "x" * 40
ADMIN_PASSWORD = "beheer-wachtwoord-1"
STAFF_PASSWORD = "medewerker-wachtwoord-1"
NOW = datetime.now(UTC)


@dataclass
class QuestionsApi:
    client: TestClient
    events: Engine
    admin: dict[str, str]
    staff: dict[str, str]

    def token(self, username: str, password: str) -> dict[str, str]:
        response = self.client.post(
            "/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _kvo_settings(url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        db_timeout_seconds=5.0,
        timezone="Europe/Amsterdam",
        argon2_time_cost=2,
        argon2_memory_cost_kib=19456,
        argon2_parallelism=1,
        tracker_db_url="",
        events_db_url="",
    )


def _api_settings(**overrides: object) -> ApiSettings:
    values: dict[str, object] = {
        "secret": API_SECRET,
        "session_secret": SESSION_SECRET,
        "allowed_origins": ORIGIN,
        "engine_url": "http://127.0.0.1:9",
        "actions_url": "http://127.0.0.1:9",
        "feedback_limit_per_client": "5/minute",
    }
    values.update(overrides)
    return ApiSettings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def qapi(tmp_path: Path) -> Iterator[QuestionsApi]:
    url = f"sqlite:///{tmp_path / 'kvo.sqlite3'}"
    migrate.upgrade(url)
    settings = _kvo_settings(url)
    engine = make_engine(url, settings)
    with make_sessionmaker(engine)() as session:
        add_user(session, "anna", ADMIN_PASSWORD, UserRole.ADMIN, settings=settings)
        add_user(session, "sam", STAFF_PASSWORD, UserRole.STAFF, settings=settings)
        session.commit()
    events = vq.events_engine(f"sqlite:///{tmp_path / 'events.db'}")
    app = create_app(_api_settings(), settings, engine)
    app.state.events_engine = events
    with TestClient(app) as client:
        api = QuestionsApi(client, events, {}, {})
        api.admin = api.token("anna", ADMIN_PASSWORD)
        api.staff = api.token("sam", STAFF_PASSWORD)
        yield api
    events.dispose()
    engine.dispose()


def _turn(events: Engine, conversation: str, at: datetime, text: str, action: str) -> None:
    moment = at.timestamp()
    rows = [
        event_row(
            {
                "event": "user",
                "sender_id": conversation,
                "timestamp": moment,
                "text": text,
                "parse_data": {
                    "intent": {"name": "nlu_fallback", "confidence": 0.3},
                    "intent_ranking": [{"name": "nlu_fallback"}, {"name": "faq"}],
                    "response_selector": {
                        "faq": {"response": {"intent_response_key": "faq/kosten_subsidie"}}
                    },
                },
            }
        ),
        event_row(
            {
                "event": "action",
                "sender_id": conversation,
                "timestamp": moment + 0.1,
                "name": action,
            }
        ),
    ]
    with events.begin() as connection:
        connection.execute(vq.EVENTS.insert(), rows)


def _fill(events: Engine) -> None:
    _turn(events, "c1", NOW, "Wat kost het? mail jan@example.nl", "action_clarify")
    _turn(events, "c2", NOW, "wat kost het, mail piet@example.org", "action_clarify")
    _turn(events, "c3", NOW, "<script>alert(1)</script> fiets repareren", "utter_out_of_scope")
    _turn(events, "c4", NOW - timedelta(days=7), "mens spreken", "action_handoff")


# --- staff endpoints -------------------------------------------------------------------------


def test_questions_need_a_login(qapi: QuestionsApi) -> None:
    for path in ("/questions", "/questions/stats", "/questions/export"):
        response = qapi.client.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_list_is_masked_grouped_filtered_and_paginated(qapi: QuestionsApi) -> None:
    _fill(qapi.events)
    response = qapi.client.get("/questions", headers=qapi.staff)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 3
    top = body["items"][0]
    assert top["count"] == 2 and top["outcome"] == "clarification"
    assert top["text"] in {"Wat kost het? mail <e-mail>", "wat kost het, mail <e-mail>"}
    assert top["topic"] == "faq/kosten_subsidie"
    assert "@example" not in response.text

    week = vq.iso_week(NOW.timestamp(), _kvo_settings("sqlite://").tzinfo)
    only = qapi.client.get(
        "/questions", params={"week": week, "outcome": "out_of_scope"}, headers=qapi.staff
    ).json()
    assert [item["outcome"] for item in only["items"]] == ["out_of_scope"]
    page = qapi.client.get("/questions", params={"page": 2, "page_size": 2}, headers=qapi.staff)
    assert page.json()["total"] == 3 and len(page.json()["items"]) == 1


@pytest.mark.parametrize(
    "params",
    [{"week": "2026-48"}, {"week": "2026-W99"}, {"outcome": "answered"}, {"page_size": 1000}],
)
def test_list_refuses_bad_filters(qapi: QuestionsApi, params: dict[str, object]) -> None:
    response = qapi.client.get("/questions", params=params, headers=qapi.staff)
    assert response.status_code == 422
    assert response.json()["code"] in {"validation_error", "invalid_week"}


def test_stats_per_week_for_the_chart(qapi: QuestionsApi) -> None:
    _fill(qapi.events)
    vq.record_feedback(qapi.events, "s1", "faq/kosten_subsidie", "down")
    body = qapi.client.get("/questions/stats", headers=qapi.staff).json()
    assert len(body["weeks"]) == 2
    last = body["weeks"][-1]
    assert (last["conversations"], last["unanswered"], last["clarification"]) == (3, 3, 2)
    assert last["out_of_scope"] == 1 and last["feedback_down"] == 1
    assert body["weeks"][0]["handoff"] == 1
    assert body["feedback_by_topic"] == [{"topic": "faq/kosten_subsidie", "up": 0, "down": 1}]


def test_export_is_for_admins_and_is_nlu_yaml(qapi: QuestionsApi) -> None:
    _fill(qapi.events)
    assert qapi.client.get("/questions/export", headers=qapi.staff).status_code == 403
    response = qapi.client.get("/questions/export", headers=qapi.admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert "attachment" in response.headers["content-disposition"]
    data = yaml.safe_load(response.text)
    assert data["version"] == "3.1"
    assert {block["intent"] for block in data["nlu"]} == {"unlabeled"}
    assert "@example" not in response.text


def test_dashboard_page_escapes_visitor_text(qapi: QuestionsApi) -> None:
    _fill(qapi.events)
    login = qapi.client.post(
        "/dashboard/login",
        data={"username": "sam", "password": STAFF_PASSWORD},
        follow_redirects=False,
    )
    assert login.status_code in (302, 303), login.text
    page = qapi.client.get("/dashboard/questions")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; fiets repareren" in page.text
    assert "<script>alert(1)" not in page.text
    assert "Wat bezoekers vragen" in page.text and "&lt;e-mail&gt;" in page.text
    assert qapi.client.get("/dashboard/questions?week=bad").status_code == 422


# --- POST /feedback --------------------------------------------------------------------------


def _vote(
    qapi: QuestionsApi, origin: str | None = ORIGIN, **body: object
) -> tuple[int, dict[str, object] | None]:
    payload = {"session_id": issue_session_id(SESSION_SECRET), "topic": "faq/kosten_subsidie"}
    payload.update(vote="up")
    payload.update(body)
    headers = {"Origin": origin} if origin else {}
    response = qapi.client.post("/feedback", json=payload, headers=headers)
    return response.status_code, (response.json() if response.content else None)


def _stored(events: Engine) -> int:
    with events.connect() as connection:
        return connection.scalar(select(func.count()).select_from(vq.FEEDBACK)) or 0


def test_feedback_from_a_real_chat_session_is_stored(qapi: QuestionsApi) -> None:
    session_id = issue_session_id(SESSION_SECRET)
    assert _vote(qapi, session_id=session_id, vote="down") == (204, None)
    assert _vote(qapi, session_id=session_id, vote="up") == (204, None)
    assert _stored(qapi.events) == 1
    with qapi.events.connect() as connection:
        key, vote = connection.execute(
            select(vq.FEEDBACK.c.conversation_key, vq.FEEDBACK.c.vote)
        ).one()
    assert vote == "up" and session_id not in key


@pytest.mark.parametrize(
    ("origin", "body", "status", "code"),
    [
        ("https://evil.example", {}, 403, "origin_refused"),
        (None, {}, 403, "origin_refused"),
        (ORIGIN, {"session_id": "made-up.session"}, 403, "invalid_session"),
        (
            ORIGIN,
            {"session_id": issue_session_id("another-secret-" + "z" * 30)},
            403,
            "invalid_session",
        ),
        (ORIGIN, {"topic": "faq/bestaat_niet"}, 422, "unknown_topic"),
        (ORIGIN, {"topic": "utter_faq/kosten_subsidie"}, 422, "validation_error"),
        (ORIGIN, {"vote": "maybe"}, 422, "validation_error"),
        (ORIGIN, {"extra": "field"}, 422, "validation_error"),
        (ORIGIN, {"session_id": "x" * 65}, 422, "validation_error"),
    ],
)
def test_feedback_refusals(
    qapi: QuestionsApi, origin: str | None, body: dict[str, object], status: int, code: str
) -> None:
    got_status, got_body = _vote(qapi, origin=origin, **body)
    assert got_status == status
    assert got_body is not None and got_body["code"] == code
    assert _stored(qapi.events) == 0


def test_feedback_body_is_bounded(qapi: QuestionsApi) -> None:
    response = qapi.client.post(
        "/feedback",
        content=b'{"session_id": "' + b"a" * 5000 + b'"}',
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["code"] == "too_large"


def test_feedback_is_rate_limited_per_client(qapi: QuestionsApi) -> None:
    statuses = [_vote(qapi)[0] for _ in range(5)]
    assert statuses == [204] * 5
    status, body = _vote(qapi)
    assert status == 429 and body is not None and body["code"] == "rate_limited"


def test_feedback_without_a_session_secret_accepts_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kvo.sqlite3'}"
    migrate.upgrade(url)
    settings = _kvo_settings(url)
    app = create_app(_api_settings(session_secret=""), settings, make_engine(url, settings))
    app.state.events_engine = vq.events_engine(f"sqlite:///{tmp_path / 'events.db'}")
    with TestClient(app) as client:
        response = client.post(
            "/feedback",
            json={"session_id": "a.b", "topic": "faq/kosten_subsidie", "vote": "up"},
            headers={"Origin": ORIGIN},
        )
    assert response.status_code == 403 and response.json()["code"] == "invalid_session"


def test_the_events_database_comes_from_the_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kvo.sqlite3'}"
    migrate.upgrade(url)
    events_url = f"sqlite:///{tmp_path / 'from-settings.db'}"
    settings = _kvo_settings(url).model_copy(update={"events_db_url": events_url})
    engine = make_engine(url, settings)
    with make_sessionmaker(engine)() as session:
        add_user(session, "sam", STAFF_PASSWORD, UserRole.STAFF, settings=settings)
        session.commit()
    app = create_app(_api_settings(), settings, engine)
    with TestClient(app) as client:
        api = QuestionsApi(client, app.state, {}, {})  # type: ignore[arg-type]
        response = client.get("/questions/stats", headers=api.token("sam", STAFF_PASSWORD))
    assert response.status_code == 200
    assert response.json() == {"weeks": [], "feedback_by_topic": []}
    assert (tmp_path / "from-settings.db").exists()
    app.state.events_engine.dispose()
    engine.dispose()
