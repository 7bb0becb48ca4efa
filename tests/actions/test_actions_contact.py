"""Contact routes and the human handoff: built from settings, office hours in Europe/Amsterdam."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.contact import contact_route, handoff_message, office_hours
from actions.handoff import ActionHandoff
from actions.intake import ActionBookIntake
from actions.office_hours import parse_office_hours
from kvo.settings import Settings

MakeSettings = Callable[..., Settings]
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
OUTSIDE = "buiten kantooruren"
HOURS_SENTENCE = "Onze medewerkers zijn bereikbaar op maandag t/m vrijdag van 09:00 tot 17:00 uur."


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- contact_route ----------------------------------------------------------------------------


def test_all_routes_are_named_in_order(make_settings: MakeSettings) -> None:
    settings = make_settings(
        contact_phone="013 1234567",
        contact_email="kvo@example.org",
        contact_url="https://x.example",
    )
    assert contact_route(settings) == (
        "telefonisch op 013 1234567, per e-mail via kvo@example.org"
        " of via de website https://x.example"
    )


@pytest.mark.parametrize(
    ("phone", "email", "url", "expected"),
    [
        ("013 1234567", "", "", "telefonisch op 013 1234567"),
        ("", "kvo@example.org", "", "per e-mail via kvo@example.org"),
        ("", "", "https://x.example", "via de website https://x.example"),
        ("013 1234567", "", "https://x.example", "telefonisch op 013 1234567 of via de website https://x.example"),
        ("", "kvo@example.org", "https://x.example", "per e-mail via kvo@example.org of via de website https://x.example"),
    ],
)  # fmt: skip
def test_only_configured_routes_appear(
    make_settings: MakeSettings, phone: str, email: str, url: str, expected: str
) -> None:
    route = contact_route(make_settings(contact_phone=phone, contact_email=email, contact_url=url))
    assert route == expected
    if not phone:
        assert "telefonisch" not in route
    if not email:
        assert "e-mail" not in route
    if not url:
        assert "website" not in route


def test_without_any_route_the_website_of_pvo_is_named(make_settings: MakeSettings) -> None:
    route = contact_route(make_settings(contact_phone="", contact_email="", contact_url=""))
    assert route == "via de website van PVO Brabant-Zeeland"


def test_contact_route_reads_the_environment(
    use_env: Callable[..., None], contact: dict[str, str]
) -> None:
    assert contact_route() == (
        f"telefonisch op {contact['phone']}, per e-mail via {contact['email']}"
        f" of via de website {contact['url']}"
    )
    use_env(PVO_CONTACT_PHONE="", PVO_CONTACT_URL="")
    assert contact_route() == f"per e-mail via {contact['email']}"


# --- handoff_message ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [
        local(2025, 3, 10, 9, 0),  # Monday, opening time
        local(2025, 3, 12, 12, 0),
        local(2025, 3, 14, 16, 59),
        utc(2025, 1, 8, 8, 30),  # 09:30 CET
        utc(2025, 7, 2, 7, 30),  # 09:30 CEST
        utc(2025, 7, 2, 14, 59),  # 16:59 CEST
    ],
)
def test_inside_office_hours_no_outside_remark(
    make_settings: MakeSettings, contact: dict[str, str], now: datetime
) -> None:
    text = handoff_message(now=now, settings=make_settings())
    assert text.startswith("U kunt een medewerker van PVO Brabant-Zeeland bereiken telefonisch op")
    assert contact["phone"] in text and contact["email"] in text and contact["url"] in text
    assert HOURS_SENTENCE in text
    assert OUTSIDE not in text


@pytest.mark.parametrize(
    "now",
    [
        local(2025, 3, 10, 8, 59),
        local(2025, 3, 14, 17, 0),  # closing time is already closed
        local(2025, 3, 15, 11, 0),  # Saturday
        local(2025, 3, 16, 11, 0),  # Sunday
        utc(2025, 1, 8, 7, 30),  # 08:30 CET, although 07:30 UTC
        utc(2025, 7, 2, 15, 30),  # 17:30 CEST, although 15:30 UTC would be open
        utc(2025, 3, 14, 23, 30),  # Saturday 00:30 in Amsterdam
    ],
)
def test_outside_office_hours_the_remark_is_added(
    make_settings: MakeSettings, contact: dict[str, str], now: datetime
) -> None:
    text = handoff_message(now=now, settings=make_settings())
    assert contact["email"] in text
    assert HOURS_SENTENCE in text
    assert "Het is nu buiten kantooruren." in text
    assert "reageert in de eerstvolgende kantooruren" in text


def test_other_office_hours_are_described(make_settings: MakeSettings) -> None:
    settings = make_settings(office_hours="ma,wo,vr 10:00-16:00")
    text = handoff_message(now=local(2025, 3, 11, 11, 0), settings=settings)  # a Tuesday
    assert "bereikbaar op maandag, woensdag en vrijdag van 10:00 tot 16:00 uur." in text
    assert OUTSIDE in text
    assert OUTSIDE not in handoff_message(now=local(2025, 3, 12, 11, 0), settings=settings)


@pytest.mark.parametrize("spec", ["altijd", "24/7", "ma-vr 17:00-09:00", "", "vr-ma 09:00-17:00"])
def test_invalid_office_hours_are_left_out(
    make_settings: MakeSettings,
    contact: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    spec: str,
) -> None:
    settings = make_settings(office_hours=spec)
    with caplog.at_level(logging.WARNING, logger="actions.contact"):
        text = handoff_message(now=local(2025, 3, 15, 23, 0), settings=settings)
        assert office_hours(settings) is None
    assert text == (
        f"U kunt een medewerker van PVO Brabant-Zeeland bereiken {contact_route(settings)}."
    )
    assert contact["phone"] in text
    assert "bereikbaar op" not in text
    assert OUTSIDE not in text
    assert "PVO_OFFICE_HOURS ignored" in caplog.text


# --- the actions ----------------------------------------------------------------------------


def run_action(action: Any, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def test_action_handoff_names_every_route_and_the_hours(
    tracker_for: Callable[..., Tracker], contact: dict[str, str]
) -> None:
    before = datetime.now(AMSTERDAM)
    messages, events = run_action(ActionHandoff(), tracker_for("ik wil een mens", "human_handoff"))
    after = datetime.now(AMSTERDAM)
    assert events == []
    assert len(messages) == 1
    text = messages[0]["text"]
    assert text.startswith("U kunt een medewerker van PVO Brabant-Zeeland bereiken")
    for route in contact.values():
        assert route in text
    assert HOURS_SENTENCE in text
    hours = parse_office_hours("ma-vr 09:00-17:00")
    if hours.is_open(before) == hours.is_open(after):  # not racing a boundary
        assert (OUTSIDE in text) is not hours.is_open(before)


def test_action_handoff_survives_invalid_office_hours(
    tracker_for: Callable[..., Tracker], use_env: Callable[..., None], contact: dict[str, str]
) -> None:
    use_env(PVO_OFFICE_HOURS="van negen tot vijf")
    messages, _ = run_action(ActionHandoff(), tracker_for("mens graag", "human_handoff"))
    text = messages[0]["text"]
    assert contact["email"] in text
    assert "bereikbaar op" not in text
    assert OUTSIDE not in text


def test_action_handoff_with_only_an_email_address(
    tracker_for: Callable[..., Tracker], use_env: Callable[..., None]
) -> None:
    use_env(PVO_CONTACT_PHONE="", PVO_CONTACT_URL="", PVO_CONTACT_EMAIL="info@voorbeeld.example")
    messages, _ = run_action(ActionHandoff(), tracker_for("mens", "human_handoff"))
    text = messages[0]["text"]
    assert "bereiken per e-mail via info@voorbeeld.example." in text
    assert "telefonisch" not in text
    assert "website" not in text


def test_action_book_intake_starts_a_fresh_intake(tracker_for: Callable[..., Tracker]) -> None:
    # The contact route moved to the no-consent answer; starting explains and clears old answers.
    tracker = tracker_for("intake plannen", "book_intake")
    tracker.slots.update(intake_consent="nee", intake_slot="2026-12-01T08:00Z", manage_email="ok")
    messages, events = run_action(ActionBookIntake(), tracker)
    assert [m["response"] for m in messages] == ["utter_intake_intro"]
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    # Only slots holding a value are cleared: the form validates the slot events just before it.
    assert cleared == {"intake_consent", "intake_slot", "manage_email"}
