"""validate_status_form: sloppy references and codes, interruptions, hostile and odd input."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.status import INTERRUPTIONS, MAX_ANSWER_LENGTH, ValidateStatusForm
from kvo.references import EXAMPLE_REFERENCE
from tests.actions.action_calls import rendered

TrackerFor = Callable[..., Tracker]
FORM = "status_form"
REFERENCE_HELP = "Dat herken ik niet als referentie van een KVO-traject."
CODE_HELP = "Dat lijkt geen toegangscode."

# What visitors type when asked for the reference, and what it means.
SLOPPY_REFERENCES = [
    ("kvo 2024 31", "KVO-2024-0031"),
    ("KVO-2024-0031", "KVO-2024-0031"),
    ("kvo-2024-0031", "KVO-2024-0031"),
    ("kvo2024 31", "KVO-2024-0031"),
    ("KVO20240031", "KVO-2024-0031"),
    ("KVO 2024-31", "KVO-2024-0031"),
    ("kvo/2024/31", "KVO-2024-0031"),
    ("  Kvo_2024_0044  ", "KVO-2024-0044"),
    ("Mijn referentie is kvo-2024-0031.", "KVO-2024-0031"),
    ("ons traject: KVO–2025–0003 (Rietvelden)", "KVO-2025-0003"),
    ("ＫＶＯ－２０２４－００３１", "KVO-2024-0031"),  # full-width
    ("🙂 kvo 2024 31 🙂", "KVO-2024-0031"),
]
# What visitors type when asked for the access code, and its canonical form.
SLOPPY_CODES = [
    ("wvz4-lwux", "WVZ4LWUX"),
    ("wvz4lwux", "WVZ4LWUX"),
    ("WVZ4-LWUX", "WVZ4LWUX"),
    (" WVZ4 LWUX ", "WVZ4LWUX"),
    ("wvz4–lwux", "WVZ4LWUX"),  # en dash
    ("ｗｖｚ４－ｌｗｕｘ", "WVZ4LWUX"),  # full-width
    ("Wvz4-LwUx", "WVZ4LWUX"),
]
# Answers that are neither; none may come back in the bot's message.
NONSENSE = [
    "ik weet het niet zo goed",
    "blablabla qwerty",
    "<script>alert('pvo')</script>",
    "<b>vet</b><img src=x onerror=alert(1)>",
    "'; DROP TABLE trajectories; --",
    "' OR '1'='1",
    "🙂🙃🤔🔑",
    "Ünïcödé ŝţřïñĝ ñ ß",
    "مرحبا שלום こんにちは",
    "\x00\x01\x02 controle",
    "KVO-1999-0001",  # year out of range
    "KVO-2024-0000",  # number out of range
    "QRST-UVW",  # 7 characters
    "QRST-UVWX-YZ",  # 10 characters
    "0O1I-0O1I",  # look-alikes that codes never contain
    "q" * 5000,
]
# Intents that interrupt the form, each with something a visitor might type.
INTERRUPTING_MESSAGES = [
    ("faq", "wat kost het keurmerk?"),
    ("choose_faq", '/choose_faq{"faq_topic": "stappen"}'),
    ("faq_menu", "/faq_menu"),
    ("stop", "stop"),
    ("deny", "nee laat maar"),
    ("human_handoff", "ik wil een medewerker spreken"),
    ("bot_challenge", "ben jij een robot?"),
    ("book_intake", "ik wil een intake plannen"),
    ("greet", "hallo"),
    ("goodbye", "doei"),
    ("thank", "bedankt"),
    ("english", "what is this?"),
    ("out_of_scope", "hoe laat is het in Tokio"),
    ("something_else", "/something_else"),
    ("request_callback", "bel mij liever"),
    ("cancel_booking", "ik wil mijn intake annuleren"),
    ("move_booking", "ik wil mijn intake verzetten"),
    ("skip", "overslaan"),
    ("other_week", "/other_week"),
    ("confirm_booking", "/confirm_booking"),
    ("choose_slot", '/choose_slot{"intake_slot": "2026-12-01T08:00Z"}'),
    ("change_field", "/change_field"),
    ("emergency", "er wordt ingebroken, help"),
    ("lost_code", "ik ben de code kwijt"),
    ("capabilities", "wat kun je allemaal"),
    ("explain_more", "kun je dat uitleggen"),
    ("contact", "wat is jullie telefoonnummer"),
    ("stop_form", "hou er maar mee op"),
]


def call(coroutine_or_value: Any) -> Any:
    return (
        asyncio.run(coroutine_or_value)
        if asyncio.iscoroutine(coroutine_or_value)
        else coroutine_or_value
    )


def extract(tracker: Tracker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Both extract_* methods, as the form runs them; returns what they set and what was said."""
    form, dispatcher = ValidateStatusForm(), CollectingDispatcher()
    found: dict[str, Any] = {}
    found.update(call(form.extract_reference_code(dispatcher, tracker, {})))
    found.update(call(form.extract_access_code(dispatcher, tracker, {})))
    return found, [rendered(m) for m in dispatcher.messages]


def validate(
    slot: str, value: Any, tracker: Tracker
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    form, dispatcher = ValidateStatusForm(), CollectingDispatcher()
    result = call(getattr(form, f"validate_{slot}")(value, dispatcher, tracker, {}))
    return result, [rendered(m) for m in dispatcher.messages]


def run_form(
    tracker: Tracker, domain: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The whole validation action, as the action server runs it for the active form."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateStatusForm().run(dispatcher, tracker, domain))
    return events, [rendered(m) for m in dispatcher.messages]


def asking_reference(tracker_for: TrackerFor, text: str, intent: str = "inform") -> Tracker:
    return tracker_for(text, intent, requested_slot="reference_code", active_loop=FORM)


def asking_code(tracker_for: TrackerFor, text: str, intent: str = "inform") -> Tracker:
    return tracker_for(
        text,
        intent,
        requested_slot="access_code",
        active_loop=FORM,
        slots={"reference_code": "KVO-2024-0031"},
    )


def test_the_action_name_matches_the_form() -> None:
    assert ValidateStatusForm().name() == "validate_status_form"
    assert ValidateStatusForm().form_name() == FORM


# --- references ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "reference"), SLOPPY_REFERENCES)
def test_sloppy_references_are_extracted_and_validated(
    tracker_for: TrackerFor, typed: str, reference: str
) -> None:
    tracker = asking_reference(tracker_for, typed)
    found, messages = extract(tracker)
    assert found == {"reference_code": reference}
    assert messages == []
    result, messages = validate("reference_code", found["reference_code"], tracker)
    assert result == {"reference_code": reference}
    assert messages == []


def test_a_reference_in_the_opening_question_is_picked_up(tracker_for: TrackerFor) -> None:
    # On activation no slot is requested yet.
    tracker = tracker_for("hoe staat het met kvo 2024 31?", "check_status", active_loop=FORM)
    assert extract(tracker) == ({"reference_code": "KVO-2024-0031"}, [])


def test_an_opening_question_without_reference_sets_nothing(tracker_for: TrackerFor) -> None:
    tracker = tracker_for("hoe staat het met ons traject?", "check_status", active_loop=FORM)
    assert extract(tracker) == ({}, [])


@pytest.mark.parametrize("typed", NONSENSE)
def test_nonsense_reference_is_refused_without_echo(tracker_for: TrackerFor, typed: str) -> None:
    tracker = asking_reference(tracker_for, typed, intent="nlu_fallback")
    found, messages = extract(tracker)
    assert messages == []
    # Kept (shortened) only so that validation can explain the expected form.
    assert set(found) == {"reference_code"}
    assert len(found["reference_code"]) <= MAX_ANSWER_LENGTH
    result, messages = validate("reference_code", found["reference_code"], tracker)
    assert result == {"reference_code": None}
    assert len(messages) == 1
    text = messages[0]["text"]
    assert text.startswith(REFERENCE_HELP)
    assert EXAMPLE_REFERENCE in text and '"stop"' in text
    assert typed.strip() not in text
    assert messages[0]["buttons"] == []


@pytest.mark.parametrize("value", [None, "", 42, {"value": "x"}, ["KVO"]])
def test_odd_slot_values_are_refused(tracker_for: TrackerFor, value: Any) -> None:
    result, messages = validate("reference_code", value, asking_reference(tracker_for, ""))
    assert result == {"reference_code": None}
    assert messages[0]["text"].startswith(REFERENCE_HELP)
    result, messages = validate("access_code", value, asking_code(tracker_for, ""))
    assert result == {"access_code": None}
    assert messages[0]["text"].startswith(CODE_HELP)


def test_a_reference_hidden_in_very_long_text_is_found(tracker_for: TrackerFor) -> None:
    typed = "bla " * 1250 + "KVO-2024-0031"
    assert len(typed) > 5000
    found, _ = extract(asking_reference(tracker_for, typed))
    assert found == {"reference_code": "KVO-2024-0031"}


def test_sql_around_a_reference_leaves_only_the_reference(tracker_for: TrackerFor) -> None:
    found, _ = extract(asking_reference(tracker_for, "KVO-2024-0031'; DROP TABLE trajectories;--"))
    assert found == {"reference_code": "KVO-2024-0031"}


# --- access codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "code"), SLOPPY_CODES)
def test_sloppy_codes_are_extracted_and_normalised(
    tracker_for: TrackerFor, typed: str, code: str
) -> None:
    tracker = asking_code(tracker_for, typed)
    found, messages = extract(tracker)
    assert found == {"access_code": typed}
    assert messages == []
    result, messages = validate("access_code", found["access_code"], tracker)
    assert result == {"access_code": code}
    assert messages == []


def test_a_code_is_only_taken_when_it_is_asked_for(tracker_for: TrackerFor) -> None:
    found, _ = extract(asking_reference(tracker_for, "WVZ4-LWUX"))
    assert "access_code" not in found
    opening = tracker_for("status WVZ4-LWUX", "check_status", active_loop=FORM)
    assert "access_code" not in extract(opening)[0]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("wilt u kijken naar kvo 2024 31, de code is WVZ4-LWUX", "WVZ4LWUX"),
        ("KVO-2024-0031 wvz4-lwux", "WVZ4LWUX"),
        ("ref KVO/2024/31 code: WVZ4–LWUX graag", "WVZ4LWUX"),
        # Without the printed dash, or with a number part only, there is no code.
        ("KVO-2024-0031 wvz4lwux", None),
        ("KVO-2024-0031", None),
        ("KVO-2024-2345", None),
    ],
)
def test_a_printed_code_next_to_the_reference_is_taken_at_once(
    tracker_for: TrackerFor, typed: str, found: str | None
) -> None:
    opening = tracker_for(typed, "check_status", active_loop=FORM)
    extracted, _ = extract(opening)
    assert extracted["reference_code"].startswith("KVO-2024-")
    assert extracted.get("access_code") == found


@pytest.mark.parametrize("intent", ["greet", "stop", "deny", "faq", "english"])
def test_a_well_formed_code_counts_even_when_the_nlu_misreads_it(
    tracker_for: TrackerFor, intent: str
) -> None:
    found, _ = extract(asking_code(tracker_for, "wvz4-lwux", intent=intent))
    assert found == {"access_code": "wvz4-lwux"}


@pytest.mark.parametrize("typed", NONSENSE)
def test_nonsense_code_is_refused_without_echo(tracker_for: TrackerFor, typed: str) -> None:
    tracker = asking_code(tracker_for, typed, intent="nlu_fallback")
    found, messages = extract(tracker)
    assert messages == []
    assert len(found["access_code"]) <= MAX_ANSWER_LENGTH
    result, messages = validate("access_code", found["access_code"], tracker)
    assert result == {"access_code": None}
    assert len(messages) == 1
    text = messages[0]["text"]
    assert text.startswith(CODE_HELP)
    assert "8 letters en cijfers" in text and '"stop"' in text
    assert typed.strip() not in text


# --- interruptions ------------------------------------------------------------------------------


def test_the_interruptions_listed_here_are_those_of_the_form() -> None:
    assert {intent for intent, _ in INTERRUPTING_MESSAGES} == INTERRUPTIONS


@pytest.mark.parametrize(("intent", "typed"), INTERRUPTING_MESSAGES)
@pytest.mark.parametrize("requested", ["reference_code", "access_code"])
def test_interruptions_extract_nothing(
    tracker_for: TrackerFor, intent: str, typed: str, requested: str
) -> None:
    asking = asking_reference if requested == "reference_code" else asking_code
    assert extract(asking(tracker_for, typed, intent=intent)) == ({}, [])


# --- the whole action, as the action server runs it ------------------------------------------


def test_run_fills_the_reference(tracker_for: TrackerFor, domain: dict[str, Any]) -> None:
    events, messages = run_form(asking_reference(tracker_for, "kvo 2024 31"), domain)
    assert events == [SlotSet("reference_code", "KVO-2024-0031")]
    assert messages == []


def test_run_fills_the_code(tracker_for: TrackerFor, domain: dict[str, Any]) -> None:
    events, messages = run_form(asking_code(tracker_for, "wvz4 lwux"), domain)
    assert events == [SlotSet("access_code", "WVZ4LWUX")]
    assert messages == []


def test_run_from_a_tracker_dict(domain: dict[str, Any]) -> None:
    # Exactly the shape the action server receives from Rasa (Tracker.from_dict).
    state = {
        "sender_id": "b9f1c2",
        "slots": {"reference_code": None, "access_code": None, "requested_slot": "reference_code"},
        "latest_message": {
            "text": "KVO 2024-31",
            "intent": {"name": "inform", "confidence": 0.91},
            "intent_ranking": [
                {"name": "inform", "confidence": 0.91},
                {"name": "check_status", "confidence": 0.09},
            ],
            "entities": [],
        },
        "events": [
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": "status", "parse_data": {}},
            {"event": "active_loop", "name": FORM},
            {"event": "slot", "name": "requested_slot", "value": "reference_code"},
            {"event": "action", "name": "action_listen"},
            {"event": "user", "text": "KVO 2024-31", "parse_data": {}},
        ],
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": FORM, "validate": True, "rejected": False},
        "latest_action_name": "action_listen",
    }
    events, messages = run_form(Tracker.from_dict(state), domain)
    assert events == [SlotSet("reference_code", "KVO-2024-0031")]
    assert messages == []


@pytest.mark.parametrize(("intent", "typed"), [("faq", "wat kost het?"), ("stop", "stop")])
def test_run_on_an_interruption_changes_nothing(
    tracker_for: TrackerFor, domain: dict[str, Any], intent: str, typed: str
) -> None:
    for tracker in (
        asking_reference(tracker_for, typed, intent),
        asking_code(tracker_for, typed, intent),
    ):
        assert run_form(tracker, domain) == ([], [])


@pytest.mark.parametrize("typed", ["geen idee", "<i>x</i>", "z" * 5000])
def test_run_refuses_nonsense(tracker_for: TrackerFor, domain: dict[str, Any], typed: str) -> None:
    events, messages = run_form(asking_reference(tracker_for, typed, "nlu_fallback"), domain)
    assert events == [SlotSet("reference_code", None)]
    assert len(messages) == 1 and messages[0]["text"].startswith(REFERENCE_HELP)
    events, messages = run_form(asking_code(tracker_for, typed, "nlu_fallback"), domain)
    assert events == [SlotSet("access_code", None)]
    assert len(messages) == 1 and messages[0]["text"].startswith(CODE_HELP)
    assert typed not in messages[0]["text"]
