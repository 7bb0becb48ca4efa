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

from actions.contact import contact_response, contact_route, office_hours
from actions.handoff import ActionHandoff
from actions.intake import ActionBookIntake
from kvo.settings import Settings
from tests.actions.action_calls import rendered

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


# --- contact_response ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "name"),
    [("contact", "utter_contact"), ("human_handoff", "utter_handoff"), (None, "utter_handoff")],
)
def test_contact_response_names_the_routes_and_the_configured_hours(
    make_settings: MakeSettings, contact: dict[str, str], intent: str | None, name: str
) -> None:
    response, variables = contact_response(intent, make_settings())
    assert response == f"{name}_with_hours"
    for route in contact.values():
        assert route in variables["contact_route"]
    assert variables["office_hours"] == "maandag t/m vrijdag van 09:00 tot 17:00 uur"


def test_other_office_hours_are_described(make_settings: MakeSettings) -> None:
    _, variables = contact_response("contact", make_settings(office_hours="ma,wo,vr 10:00-16:00"))
    assert variables["office_hours"] == "maandag, woensdag en vrijdag van 10:00 tot 16:00 uur"


def test_without_office_hours_none_are_invented(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="actions.contact"):
        response, variables = contact_response("contact", make_settings(office_hours=""))
    assert response == "utter_contact"
    assert "office_hours" not in variables
    assert not caplog.text  # unset is normal, not a configuration error


@pytest.mark.parametrize("spec", ["altijd", "24/7", "ma-vr 17:00-09:00", "vr-ma 09:00-17:00"])
def test_invalid_office_hours_are_left_out(
    make_settings: MakeSettings, caplog: pytest.LogCaptureFixture, spec: str
) -> None:
    settings = make_settings(office_hours=spec)
    with caplog.at_level(logging.WARNING, logger="actions.contact"):
        response, variables = contact_response("human_handoff", settings)
        assert office_hours(settings) is None
    assert response == "utter_handoff"
    assert variables == {"contact_route": contact_route(settings)}
    assert "PVO_OFFICE_HOURS ignored" in caplog.text


def test_the_settings_have_no_office_hours_by_default() -> None:
    assert Settings.model_fields["office_hours"].default == ""


# --- the actions ----------------------------------------------------------------------------


def run_action(action: Any, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


@pytest.mark.parametrize(
    ("intent", "name"), [("human_handoff", "utter_handoff"), ("contact", "utter_contact")]
)
def test_action_handoff_fills_the_response_with_every_route_and_the_hours(
    tracker_for: Callable[..., Tracker], contact: dict[str, str], intent: str, name: str
) -> None:
    messages, events = run_action(ActionHandoff(), tracker_for("ik wil een mens", intent))
    assert events == []
    assert len(messages) == 1
    assert messages[0]["response"] == f"{name}_with_hours"
    for route in contact.values():
        assert route in messages[0]["contact_route"]
    assert messages[0]["office_hours"].startswith("maandag t/m vrijdag")


def test_action_handoff_survives_invalid_office_hours(
    tracker_for: Callable[..., Tracker], use_env: Callable[..., None], contact: dict[str, str]
) -> None:
    use_env(PVO_OFFICE_HOURS="van negen tot vijf")
    messages, _ = run_action(ActionHandoff(), tracker_for("mens graag", "human_handoff"))
    assert messages[0]["response"] == "utter_handoff"
    assert contact["email"] in messages[0]["contact_route"]
    assert "office_hours" not in messages[0]


def test_action_handoff_with_only_an_email_address(
    tracker_for: Callable[..., Tracker], use_env: Callable[..., None]
) -> None:
    use_env(PVO_CONTACT_PHONE="", PVO_CONTACT_URL="", PVO_CONTACT_EMAIL="info@voorbeeld.example")
    messages, _ = run_action(ActionHandoff(), tracker_for("mens", "human_handoff"))
    assert messages[0]["contact_route"] == "per e-mail via info@voorbeeld.example"


def test_action_book_intake_starts_a_fresh_intake(tracker_for: Callable[..., Tracker]) -> None:
    # The contact route moved to the no-consent answer; starting explains and clears old answers.
    tracker = tracker_for("intake plannen", "book_intake")
    tracker.slots.update(intake_consent="nee", intake_slot="2026-12-01T08:00Z", manage_email="ok")
    messages, events = run_action(ActionBookIntake(), tracker)
    assert [m["response"] for m in messages] == ["utter_intake_intro"]
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    # Only slots holding a value are cleared: the form validates the slot events just before it.
    assert cleared == {"intake_consent", "intake_slot", "manage_email"}


@pytest.mark.parametrize("hours", ["", "ma-vr 9:00-17:00"])
def test_a_wish_for_a_person_offers_one_callback_button(
    tracker_for: Callable[..., Tracker], use_env: Callable[..., None], hours: str
) -> None:
    use_env(PVO_OFFICE_HOURS=hours)
    messages, _ = run_action(ActionHandoff(), tracker_for("een mens graag", "human_handoff"))
    shown = rendered(messages[0])
    assert [b["payload"] for b in shown["buttons"]] == ["/request_callback"]
