"""Plain helpers for the staff API tests (values and small functions, not fixtures)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.settings import ApiSettings
from kvo.intake import Booked, CallbackRequested, finalize_booking, request_callback
from kvo.lead_fields import LeadFields
from kvo.models import AvailabilityRule, ContactArea, Facilitator
from kvo.settings import Settings
from tests.support import free_port

AMS = ZoneInfo("Europe/Amsterdam")
ADMIN_PASSWORD = "beheer-wachtwoord-1"
STAFF_PASSWORD = "medewerker-wachtwoord-1"
SECRET = "test-secret-" + "x" * 40


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMS).astimezone(UTC)


# Friday 27 November 2026: the booking is for Tuesday 1 December, 09:00.
FRIDAY = local(2026, 11, 27, 10)
TUESDAY_9 = local(2026, 12, 1, 9)


def make_kvo_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "db_timeout_seconds": 5.0,
        "timezone": "Europe/Amsterdam",
        "argon2_time_cost": 2,
        "argon2_memory_cost_kib": 19456,
        "argon2_parallelism": 1,
        "tracker_db_url": "",
        "events_db_url": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def make_api_settings(**overrides: object) -> ApiSettings:
    values: dict[str, object] = {
        "secret": SECRET,
        "allowed_origins": "http://localhost:8000",
        "engine_url": "http://127.0.0.1:9",
        "actions_url": "http://127.0.0.1:9",
        "ready_timeout_seconds": 0.5,
    }
    values.update(overrides)
    return ApiSettings(_env_file=None, **values)  # type: ignore[arg-type]


def intake_fields(**overrides: object) -> LeadFields:
    values: dict[str, object] = {
        "name": "Jan de Vries",
        "email": "jan@example.org",
        "phone": "06-12345678",
        "municipality": "Breda",
        "area_name": "Binnenstad",
        "role": "ondernemer",
        "organisation": "Bakkerij De Vries",
        "area_kind": "winkelgebied",
        "description": "Wij willen starten met het KVO",
        "consent_at": FRIDAY,
    }
    values.update(overrides)
    return LeadFields(**values)  # type: ignore[arg-type]


def add_facilitator(
    session: Session, area: ContactArea = ContactArea.ZEELAND_WEST_BRABANT, n: int = 1
) -> int:
    """A facilitator with Monday-Friday 09:00-12:00 slots; returns the id."""
    facilitator = Facilitator(
        name=f"Begeleider {n}", contact_area=area, email=f"b{n}@example.org", active=True
    )
    facilitator.availability_rules = [
        AvailabilityRule(weekday=day, start_time=time(9), end_time=time(12)) for day in range(5)
    ]
    session.add(facilitator)
    session.flush()
    return facilitator.id


def add_intake(
    session: Session, settings: Settings, conversation_id: str = "conv-a", **fields: object
) -> Booked:
    outcome = finalize_booking(
        session, intake_fields(**fields), TUESDAY_9, conversation_id, None, FRIDAY,
        settings=settings,
    )  # fmt: skip
    assert isinstance(outcome, Booked), outcome
    return outcome


def add_callback(
    session: Session, settings: Settings, conversation_id: str = "conv-c", **fields: object
) -> CallbackRequested:
    values: dict[str, object] = {"name": "Els", "phone": "0623456789", "consent_at": FRIDAY}
    values.update(fields)
    outcome = request_callback(
        session,
        LeadFields(**values),
        conversation_id,
        None,
        FRIDAY,
        settings=settings,  # type: ignore[arg-type]
    )
    assert isinstance(outcome, CallbackRequested), outcome
    return outcome


@dataclass
class Api:
    """A test client with ready tokens for an admin and a staff user."""

    client: TestClient
    admin: dict[str, str]
    staff: dict[str, str]
    kvo_settings: Settings
    session_factory: object

    def token(self, username: str, password: str) -> dict[str, str]:
        response = self.client.post(
            "/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_error(response: object, status: int, code: str | None = None) -> dict[str, object]:
    """The one error format: {"detail": <Dutch text>, "code": <snake_code>}."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def http_ok_server() -> Iterator[str]:
    """A tiny HTTP server answering 200 to every GET (stands in for the engine and actions)."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
