"""action_check_status against real demo databases, and action_stop_status.

The SQLite tests run on a fresh copy of a migrated demo database; the PostgreSQL ones
(``-m postgres``) on a throwaway database (see conftest.py).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from sqlalchemy import create_engine, func, select, text

from actions.status import ActionCheckStatus, ActionStopStatus
from actions.status_text import dutch_date
from kvo.certificates import certificate_state
from kvo.db import normalize_database_url
from kvo.demo_data import DEMO_TRAJECTORIES, DemoTrajectory
from kvo.models import FailedAttempt, Trajectory, TrajectoryKind
from kvo.timeutil import add_years
from tests.actions.action_calls import load_domain, rendered

TrackerFor = Callable[..., Tracker]
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CLEARED = [SlotSet("reference_code", None), SlotSet("access_code", None)]
DENIED_TEXT = (
    "Ik kan geen traject vinden bij deze combinatie van referentie en toegangscode."
    " Controleer beide gegevens en probeer het opnieuw. Bent u de code kwijt? Een"
    " medewerker van PVO kan u een nieuwe geven."
)
UNREACHABLE_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:1/none"
UNAVAILABLE_START = "Het lukt mij nu niet om de status op te zoeken"
# What Rasa sends with every action call: the domain, responses included.
DOMAIN = load_domain()

BREDA = next(d for d in DEMO_TRAJECTORIES if d.reference == "KVO-2024-0031")


def _today() -> Any:
    return datetime.now(AMSTERDAM).date()


def _certificate_expiry(demo: DemoTrajectory) -> Any:
    today = _today()
    if demo.current_phase == 5:
        return add_years(today + timedelta(days=demo.phase_starts[4]), 3)
    if demo.previous_certificate_expires is not None:
        return today + timedelta(days=demo.previous_certificate_expires)
    return None


def _demo_in_state(state: str) -> DemoTrajectory:
    matches = [
        d for d in DEMO_TRAJECTORIES if certificate_state(_certificate_expiry(d), _today()) == state
    ]
    assert len(matches) == 1, f"expected one demo trajectory in state {state}: {matches}"
    return matches[0]


def all_text(messages: list[dict[str, Any]]) -> str:
    parts = []
    for message in map(rendered, messages):
        parts.append(str(message.get("text") or ""))
        for button in message.get("buttons") or []:
            parts += [str(button.get("title")), str(button.get("payload"))]
    return "\n".join(parts)


def assert_code_not_shown(messages: list[dict[str, Any]], code: str) -> None:
    shown = all_text(messages).upper()
    compact = re.sub(r"[\s\-–]", "", code.upper())
    for form in {code.upper(), compact, f"{compact[:4]}-{compact[4:]}"}:
        if len(form.strip()) >= 4:
            assert form not in shown, "the access code appears in a bot message"


def check(
    tracker_for: TrackerFor,
    reference: Any,
    code: Any,
    conversation: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run action_check_status with both slots filled, as the form leaves them."""
    tracker = tracker_for(
        str(code),
        "inform",
        slots={"reference_code": reference, "access_code": code},
        sender_id=conversation or uuid.uuid4().hex,
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionCheckStatus().run(dispatcher, tracker, DOMAIN))
    if isinstance(code, str):
        assert_code_not_shown(dispatcher.messages, code)
    return [rendered(m) for m in dispatcher.messages], events


def count(url: str, model: type) -> int:
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(model)).scalar_one()
    finally:
        engine.dispose()


# --- granted ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["WVZ4LWUX", "WVZ4-LWUX", "wvz4-lwux"])
def test_the_right_code_gives_the_status(
    demo_database: str, tracker_for: TrackerFor, code: str
) -> None:
    messages, events = check(tracker_for, "KVO-2024-0031", code)
    assert events == CLEARED
    assert len(messages) == 1
    # One message: the domain's report response, filled with the lines that apply.
    assert messages[0]["response"] == "utter_status_report"
    status = messages[0]["text"]
    assert status.startswith(
        "Traject KVO-2024-0031: Binnenstad Breda, winkelgebied in de gemeente Breda (Noord-Brabant)."
    )
    assert "Soort traject: hercertificering, op weg naar ster 3." in status
    assert "Huidige fase: stap 2 van 5, Veiligheidsanalyse (schouw en enquête)" in status
    assert "Enquête: 22% van de ondernemers heeft gereageerd; er is 30% nodig." in status
    assert f"Certificaat: geldig tot en met {dutch_date(_certificate_expiry(BREDA))}." in status
    assert "Volgende stap: Meer ondernemers de enquête laten invullen." in status
    assert "Uw procesbegeleider: Fenna Fictief." in status
    assert messages[0]["buttons"] == []


def test_an_expiring_certificate_during_a_recertification_needs_no_reminder(
    demo_database: str, tracker_for: TrackerFor
) -> None:
    # Binnenstad Terneuzen: fourth star held, the round for the fifth is in its audit stage.
    demo = _demo_in_state("verloopt_binnenkort")
    messages, events = check(tracker_for, demo.reference, demo.access_code)
    assert events == CLEARED
    assert len(messages) == 1
    status = messages[0]["text"]
    assert f"Traject {demo.reference}: {demo.area_name}" in status
    assert f"stap {demo.current_phase} van 5" in status
    assert "het huidige certificaat verloopt op" in status and "binnen zes maanden" in status
    assert "De hercertificering is al bezig." in status
    assert "Begin op tijd" not in status
    assert "op weg naar ster 5" in status


def test_an_expired_certificate_offers_an_intake_too(
    demo_database: str, tracker_for: TrackerFor
) -> None:
    demo = _demo_in_state("verlopen")
    messages, _ = check(tracker_for, demo.reference, demo.access_code)
    assert "het certificaat is verlopen op" in messages[0]["text"]
    assert [b["payload"] for b in messages[1]["buttons"]] == ["/book_intake", "/deny"]


def test_without_the_report_responses_the_visitor_is_told_to_try_later(
    demo_database: str, tracker_for: TrackerFor, contact: dict[str, str]
) -> None:
    # Rasa always sends the domain; should it come without responses, no empty message is sent.
    tracker = tracker_for(
        "WVZ4-LWUX",
        "inform",
        slots={"reference_code": "KVO-2024-0031", "access_code": "WVZ4-LWUX"},
        sender_id=uuid.uuid4().hex,
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionCheckStatus().run(dispatcher, tracker, {"responses": {}}))
    assert events == CLEARED
    assert [m["response"] for m in dispatcher.messages] == ["utter_status_unavailable"]
    assert_friendly_unavailable([rendered(m) for m in dispatcher.messages], contact)


def test_every_demo_trajectory_answers_with_its_documented_code(
    demo_database: str, tracker_for: TrackerFor
) -> None:
    for demo in DEMO_TRAJECTORIES:
        messages, events = check(tracker_for, demo.reference, demo.access_code)
        assert events == CLEARED
        status = messages[0]["text"]
        assert status.startswith(f"Traject {demo.reference}: {demo.area_name}"), demo.reference
        assert f"stap {demo.current_phase} van 5" in status
        state = certificate_state(_certificate_expiry(demo), _today())
        offers_intake = any(m["buttons"] for m in messages)
        ends = state in ("verloopt_binnenkort", "verlopen")
        in_progress = demo.kind == TrajectoryKind.RECERTIFICATION and demo.current_phase < 5
        assert offers_intake is (ends and not in_progress), demo.reference
        if demo.current_phase == 5:
            assert "op weg naar ster" not in status, demo.reference


# --- denied and locked out ------------------------------------------------------------------------


def test_wrong_code_and_unknown_reference_get_the_same_answer(
    demo_database: str, tracker_for: TrackerFor
) -> None:
    wrong_code = check(tracker_for, "KVO-2024-0031", "ABCD-EFGH")
    other_demo_code = check(tracker_for, "KVO-2024-0031", "4K92-YP4M")
    unknown_reference = check(tracker_for, "KVO-2099-9999", "WVZ4-LWUX")
    for messages, events in (wrong_code, other_demo_code, unknown_reference):
        assert events == CLEARED
        assert messages == wrong_code[0]
    assert wrong_code[0][0]["text"] == DENIED_TEXT
    assert wrong_code[0][0]["buttons"] == [
        {"title": "Opnieuw proberen", "payload": "/check_status"},
        {"title": "Een medewerker spreken", "payload": "/human_handoff"},
    ]


@pytest.mark.parametrize(
    ("reference", "code"),
    [
        (None, None),
        ("", ""),
        ("KVO-2024-0031", None),
        (None, "WVZ4-LWUX"),
        ("' OR 1=1 --", "' OR '1'='1"),
        ("KVO-2024-0031' OR '1'='1", "WVZ4' OR '1'='1"),
        ("<script>alert(1)</script>", "<b>WVZ4-LWUX</b>"),
        ("\x00KVO-2024-0031", "\x00"),
        ("🙂" * 30, "ÄÖÜ-ßñ"),
        ("k" * 5000, "W" * 5000),
    ],
)
def test_hostile_or_missing_slots_are_denied_safely(
    demo_database: str, tracker_for: TrackerFor, reference: Any, code: Any
) -> None:
    messages, events = check(tracker_for, reference, code, conversation="x\x00" + uuid.uuid4().hex)
    assert events == CLEARED
    assert [m["text"] for m in messages] == [DENIED_TEXT]
    assert count(demo_database, Trajectory) == len(DEMO_TRAJECTORIES)


def test_five_failures_lock_the_conversation_out(
    demo_database: str, tracker_for: TrackerFor, contact: dict[str, str]
) -> None:
    conversation = uuid.uuid4().hex
    before_first = datetime.now(UTC)
    for attempt in range(5):
        messages, _ = check(
            tracker_for, "KVO-2024-0031", f"ABCD-EFG{'HJKLM'[attempt]}", conversation
        )
        if attempt == 0:
            after_first = datetime.now(UTC)
        assert [m["text"] for m in messages] == [DENIED_TEXT], f"attempt {attempt + 1}"
    assert count(demo_database, FailedAttempt) == 5

    # Even the right code no longer helps.
    messages, events = check(tracker_for, "KVO-2024-0031", "WVZ4-LWUX", conversation)
    assert events == CLEARED
    assert len(messages) == 1
    locked = messages[0]["text"]
    assert "te vaak een onjuiste combinatie" in locked
    assert "Binnenstad Breda" not in locked
    shown = re.search(r"Probeert u het na (\d{2}:\d{2}) uur opnieuw\.", locked)
    assert shown, locked
    expected = {
        (moment + timedelta(minutes=60)).astimezone(AMSTERDAM).strftime("%H:%M")
        for moment in (before_first, after_first)
    }
    assert shown.group(1) in expected
    for route in contact.values():
        assert route in locked
    # A locked check is no new failure.
    assert count(demo_database, FailedAttempt) == 5

    # The reference is locked for other conversations as well, other references are not.
    elsewhere, _ = check(tracker_for, "KVO-2024-0031", "WVZ4-LWUX")
    assert "te vaak" in elsewhere[0]["text"]
    other, _ = check(tracker_for, "KVO-2024-0044", "5FT8-YLRB")
    assert other[0]["text"].startswith("Traject KVO-2024-0044")


def test_four_failures_do_not_lock(demo_database: str, tracker_for: TrackerFor) -> None:
    conversation = uuid.uuid4().hex
    for _ in range(4):
        check(tracker_for, "KVO-2024-0031", "ABCD-EFGH", conversation)
    messages, _ = check(tracker_for, "KVO-2024-0031", "WVZ4-LWUX", conversation)
    assert messages[0]["text"].startswith("Traject KVO-2024-0031")


# --- the database fails -------------------------------------------------------------------------


def assert_friendly_unavailable(messages: list[dict[str, Any]], contact: dict[str, str]) -> None:
    assert len(messages) == 1
    message = messages[0]["text"]
    assert message.startswith(UNAVAILABLE_START)
    assert "Probeer het later nog eens, of neem contact op met PVO" in message
    for route in contact.values():
        assert route in message
    assert "Traceback" not in message and "Error" not in message and "sql" not in message.lower()


def test_an_unreachable_database_gets_a_friendly_message(
    tracker_for: TrackerFor, use_env: Callable[..., None], contact: dict[str, str]
) -> None:
    use_env(DATABASE_URL=UNREACHABLE_DATABASE_URL, DB_TIMEOUT_SECONDS="2")
    start = time.monotonic()
    messages, events = check(tracker_for, "KVO-2024-0031", "WVZ4-LWUX")
    assert time.monotonic() - start < 5
    assert events == CLEARED
    assert_friendly_unavailable(messages, contact)


def test_a_database_without_tables_gets_a_friendly_message(
    tracker_for: TrackerFor, use_env: Callable[..., None], contact: dict[str, str], tmp_path: Path
) -> None:
    use_env(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    messages, events = check(tracker_for, "KVO-2024-0031", "WVZ4-LWUX")
    assert events == CLEARED
    assert_friendly_unavailable(messages, contact)


@pytest.fixture(
    params=[
        "corrupt-sqlite-file",
        pytest.param("unmigrated-postgresql", marks=pytest.mark.postgres),
    ]
)
def broken_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Databases that answer, but not as the domain expects: no tables, or not a database."""
    if request.param == "corrupt-sqlite-file":
        path = tmp_path / "corrupt.sqlite3"
        path.write_bytes(b"this is not an SQLite database\n" * 200)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_empty_url")


def test_a_broken_database_gets_a_friendly_message(
    broken_database: str,
    tracker_for: TrackerFor,
    use_env: Callable[..., None],
    contact: dict[str, str],
) -> None:
    # SQLite without tables already gets the friendly message (see above); the same visitor
    # must not get a crashed action when PostgreSQL lacks the tables or the file is damaged.
    use_env(DATABASE_URL=broken_database)
    messages, events = check(tracker_for, "KVO-2024-0031", "WVZ4-LWUX")
    assert events == CLEARED
    assert_friendly_unavailable(messages, contact)


def _run_bounded(tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float]:
    """Run the action in a worker thread so that a hanging lookup fails the test instead of hanging it."""
    dispatcher = CollectingDispatcher()
    with ThreadPoolExecutor(max_workers=1) as pool:
        start = time.monotonic()
        events = pool.submit(
            asyncio.run, ActionCheckStatus().run(dispatcher, tracker, DOMAIN)
        ).result(timeout=20)
        return [rendered(m) for m in dispatcher.messages], events, time.monotonic() - start


def test_a_locked_sqlite_database_answers_in_time(
    tracker_for: TrackerFor,
    use_env: Callable[..., None],
    contact: dict[str, str],
    sqlite_demo_template: Path,
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.sqlite3"
    path.write_bytes(sqlite_demo_template.read_bytes())
    use_env(DATABASE_URL=f"sqlite:///{path}", DB_TIMEOUT_SECONDS="1")
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock: a failed check cannot be recorded
        tracker = tracker_for(
            "x", "inform", slots={"reference_code": "KVO-2024-0031", "access_code": "ABCD-EFGH"}
        )
        messages, events, elapsed = _run_bounded(tracker)
    finally:
        writer.rollback()
        writer.close()
    assert 0.8 <= elapsed < 3, f"answered after {elapsed:.2f} s"
    assert events == CLEARED
    assert_friendly_unavailable(messages, contact)


@pytest.mark.postgres
def test_a_slow_postgres_database_answers_in_time(
    postgres_demo_url: str,
    tracker_for: TrackerFor,
    use_env: Callable[..., None],
    contact: dict[str, str],
) -> None:
    use_env(DATABASE_URL=postgres_demo_url, DB_TIMEOUT_SECONDS="1")
    locker = create_engine(normalize_database_url(postgres_demo_url))
    try:
        with locker.connect() as connection:
            connection.execute(text("LOCK TABLE trajectories IN ACCESS EXCLUSIVE MODE"))
            try:
                tracker = tracker_for(
                    "x",
                    "inform",
                    slots={"reference_code": "KVO-2024-0031", "access_code": "WVZ4-LWUX"},
                    sender_id=uuid.uuid4().hex,
                )
                messages, events, elapsed = _run_bounded(tracker)
            finally:
                connection.rollback()
    finally:
        locker.dispose()
    assert 0.8 <= elapsed < 3, f"answered after {elapsed:.2f} s"
    assert events == CLEARED
    assert_friendly_unavailable(messages, contact)
    assert_code_not_shown(messages, "WVZ4-LWUX")


# --- stop, and the actions the server registers ------------------------------------------------


def test_stop_forgets_everything_and_ends_the_form(
    tracker_for: TrackerFor, domain: dict[str, Any]
) -> None:
    tracker = tracker_for(
        "stop",
        "stop",
        slots={"reference_code": "KVO-2024-0031", "access_code": "WVZ4LWUX"},
        requested_slot="access_code",
        active_loop="status_form",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionStopStatus().run(dispatcher, tracker, domain))
    assert events == [
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        SlotSet("reference_code", None),
        SlotSet("access_code", None),
    ]
    assert [m["response"] for m in dispatcher.messages] == ["utter_status_stopped"]
    assert "utter_status_stopped" in domain["responses"]


def test_the_action_server_registers_exactly_the_domain_actions(domain: dict[str, Any]) -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    custom = {name for name in executor.actions if name != "action_validate_slot_mappings"}
    assert custom == set(domain["actions"])
