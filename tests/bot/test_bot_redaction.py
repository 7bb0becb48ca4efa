"""Redaction rules (bot/redaction.py): codes in any form, contact details in user messages, answers
to sensitive questions, slots."""

from __future__ import annotations

import json

import pytest

from bot.redaction import (
    MARKER,
    contains_code,
    redact_codes,
    redact_contact_details,
    redact_events,
)

DEMO_CODE = "VRYX-FWPK"  # README demo table, letters only: the hardest case without a dash
SENSITIVE = frozenset({"access_code", "intake_email"})


@pytest.mark.parametrize(
    "text",
    [
        "VRYX-FWPK",
        "vryx-fwpk",
        "VryxFwpk",
        "vryxfwpk",
        "mijn code is vryx-fwpk, klopt dat?",
        "status KVO-2025-0014 VRYXFWPK",
        "code: vryx – fwpk",
        "4K92-YP4M",
        "4k92yp4m",
        "WVZ4-LWUX.",
    ],
)
def test_codes_are_removed_in_any_form(text: str) -> None:
    redacted = redact_codes(text)
    assert MARKER in redacted
    plain = redacted.upper().replace("-", "").replace(" ", "").replace("–", "")
    for code in ("VRYXFWPK", "4K92YP4M", "WVZ4LWUX"):
        assert code not in plain


@pytest.mark.parametrize(
    "text",
    [
        "Wat is het keurmerk veilig ondernemen?",
        "Wij willen een afspraak maken",
        "status KVO-2024-0031",
        "bedrijventerrein",
        "kosten?",
    ],
)
def test_ordinary_words_and_references_stay(text: str) -> None:
    assert redact_codes(text) == text
    assert not contains_code(text)


@pytest.mark.parametrize(
    ("text", "personal"),
    [
        ("mail mij op jan.de-vries+kvo@bakkerij-devries.nl aub", "jan.de-vries+kvo@"),
        ("bel 06-12345678", "12345678"),
        ("mijn nummer is 06 1234 5678.", "1234 5678"),
        ("(013) 123 45 67 graag na twaalven", "123 45 67"),
        ("+31 6 12345678", "12345678"),
        ("0031612345678", "612345678"),
        ("Goedemiddag, ik ben Gerrit van der Berg van de bakkerij", "Berg"),
        ("mijn naam is Özlem Yılmaz", "Yılmaz"),
        ("Ik heet Anne-Marie", "Anne-Marie"),
        ("kunt u mij terugbellen? groet, Jan", "Jan"),
    ],
)
def test_contact_details_in_a_message_are_masked(text: str, personal: str) -> None:
    masked = redact_contact_details(text)
    assert personal not in masked and MARKER in masked


@pytest.mark.parametrize(
    "text",
    [
        "status KVO-2025-0026",
        "hoe staat het ervoor met het buitengebied van Goes? KVO-2025-0026",
        "wij hebben 2 sterren sinds 01-12-2025",
        "postcode 4531 AB, 120 bedrijven",
        "ik ben ondernemer in Goes",
        "ik ben geïnteresseerd in het keurmerk",
        "Wat kost het KVO voor 25 winkels?",
        "boeking INT-7KQ2ZD",
    ],
)
def test_ordinary_messages_keep_their_words(text: str) -> None:
    assert redact_contact_details(text) == text


def test_contact_details_are_masked_in_user_messages_only() -> None:
    typed = "Ik ben Gerrit Geenopslag, bel me op 0612345678 of mail g@geenopslag.nl"
    bot = {
        "event": "bot",
        "text": "Bel ons op 013-1234567 of mail info@pvo.example",
        "metadata": {},
    }
    user = _user(typed, [{"entity": "email", "value": "g@geenopslag.nl"}])
    stored_user, stored_bot = redact_events([user, bot], SENSITIVE)
    dumped = json.dumps(stored_user)
    for personal in ("Geenopslag", "0612345678", "g@geenopslag"):
        assert personal not in dumped
    assert stored_user["parse_data"]["intent"] == {"name": "inform"}
    # The bot's own contact route is no visitor's data and stays readable.
    assert stored_bot == bot


def _user(text: str, entities: list | None = None) -> dict:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"text": text, "intent": {"name": "inform"}, "entities": entities or []},
        "metadata": {},
    }


def test_answers_to_a_sensitive_question_are_blanked() -> None:
    events = [
        _user("hoe staat ons traject ervoor"),
        {"event": "slot", "name": "requested_slot", "value": "intake_email"},
        _user("jan@example.nl", [{"entity": "email", "value": "jan@example.nl"}]),
        {"event": "slot", "name": "intake_email", "value": "jan@example.nl"},
        {"event": "slot", "name": "requested_slot", "value": None},
        _user("wat kost het?"),
    ]
    redacted = redact_events(events, SENSITIVE)
    dumped = json.dumps(redacted)
    assert "jan@example.nl" not in dumped
    assert redacted[2]["text"] == MARKER
    assert redacted[2]["parse_data"]["text"] == MARKER
    assert redacted[2]["parse_data"]["entities"][0]["value"] == MARKER
    assert redacted[3]["value"] == MARKER
    # Before and after the question, the visitor's words stay.
    assert redacted[0]["text"] == "hoe staat ons traject ervoor"
    assert redacted[5]["text"] == "wat kost het?"
    assert events[2]["text"] == "jan@example.nl"  # the input is not changed


def test_codes_are_removed_from_every_event_field() -> None:
    events = [
        _user(f'/choose_faq{{"faq_topic": "{DEMO_CODE}"}}', [{"value": {"x": DEMO_CODE}}]),
        {"event": "bot", "text": f"Uw code {DEMO_CODE}", "data": {"buttons": []}},
        {"event": "slot", "name": "reference_code", "value": ["a", {"b": DEMO_CODE.lower()}]},
    ]
    dumped = json.dumps(redact_events(events, SENSITIVE)).upper().replace("-", "")
    assert "VRYXFWPK" not in dumped


def test_what_the_model_made_of_a_message_is_kept_as_it_is() -> None:
    # The intent ranking and the response selector hold names, confidences and the domain's own
    # answer texts: no visitor text, so they are passed on untouched (and not walked through).
    ranking = [{"name": "faq", "confidence": 0.9}, {"name": "check_status", "confidence": 0.1}]
    selector = {
        "faq": {
            "response": {"responses": [{"text": "Een traject duurt ongeveer een jaar."}]},
            "ranking": [{"id": 1, "confidence": 0.8, "intent_response_key": "faq/doorlooptijd"}],
        }
    }
    text = f"hoe lang duurt het? code {DEMO_CODE}"
    event = {
        "event": "user",
        "text": text,
        "parse_data": {
            "text": text,
            "intent": ranking[0],
            "intent_ranking": ranking,
            "response_selector": selector,
            "entities": [{"entity": "code", "value": DEMO_CODE}],
        },
    }
    (redacted,) = redact_events([event], SENSITIVE)
    assert redacted["parse_data"]["intent_ranking"] is ranking
    assert redacted["parse_data"]["response_selector"] is selector
    assert DEMO_CODE not in json.dumps(redacted)


def test_only_the_parse_data_of_a_message_is_taken_for_model_output() -> None:
    # A client chooses its message's metadata, key names included.
    event = {
        "event": "user",
        "text": "hallo",
        "metadata": {"response_selector": DEMO_CODE, "intent_ranking": [DEMO_CODE]},
        "parse_data": {"text": "hallo", "entities": [{"value": {"intent_ranking": DEMO_CODE}}]},
    }
    bot = {"event": "bot", "text": "x", "data": {"response_selector": {"x": DEMO_CODE}}}
    assert DEMO_CODE not in json.dumps(redact_events([event, bot], SENSITIVE))


def test_odd_requested_slot_values_do_not_break_redaction() -> None:
    events = [
        {"event": "slot", "name": "requested_slot", "value": {"x": 1}},
        _user("hallo"),
        {"event": "slot", "name": "access_code", "value": None},
    ]
    assert redact_events(events, SENSITIVE)[1]["text"] == "hallo"


def test_names_of_actions_slots_and_intents_survive() -> None:
    # "callback" is 8 code characters; as part of a name it must stay, or the engine loses the action.
    assert redact_codes("action_callback_start") == "action_callback_start"
    assert redact_codes("callback_question") == "callback_question"
    events = [
        {"event": "action", "name": "action_callback_start", "policy": "RulePolicy"},
        {"event": "slot", "name": "requested_slot", "value": "callback_question"},
        {
            "event": "user",
            "text": "callback M4DCXGHG",
            "parse_data": {
                "text": "callback M4DCXGHG",
                "intent": {"name": "request_callback", "confidence": 0.9},
                "entities": [{"entity": "callback", "value": "M4DC-XGHG"}],
            },
        },
    ]
    action, slot, user = redact_events(events, frozenset())
    assert action["name"] == "action_callback_start"
    assert slot["value"] == "callback_question"
    assert user["parse_data"]["intent"]["name"] == "request_callback"
    assert user["parse_data"]["entities"][0]["entity"] == "callback"
    assert "M4DC" not in str(user)


def test_bot_messages_keep_only_the_response_name_and_sensitive_ones_lose_their_text() -> None:
    summary = {
        "event": "bot",
        "text": "Klopt dit? Naam: Jan Jansen, e-mail: jan@example.nl",
        "metadata": {
            "metadata": {"sensitive": True},
            "utter_action": "utter_intake_summary",
            "summary": "Naam: Jan Jansen, e-mail: jan@example.nl",
        },
        "data": {"buttons": [{"title": "Ja, boeken", "payload": "/affirm"}]},
    }
    report = {
        "event": "bot",
        "text": "Traject KVO-2024-0031: Binnenstad Breda.",
        "metadata": {"utter_action": "utter_status_report", "report": "Binnenstad Breda"},
    }
    stored_summary, stored_report = redact_events([summary, report], frozenset())
    assert "Jansen" not in json.dumps(stored_summary) and "jan@" not in json.dumps(stored_summary)
    assert stored_summary["text"] == MARKER
    assert stored_summary["metadata"]["utter_action"] == "utter_intake_summary"
    assert stored_summary["data"]["buttons"][0]["title"] == "Ja, boeken"
    assert stored_report["text"] == report["text"]  # not marked sensitive: the text stays
    assert stored_report["metadata"] == {"utter_action": "utter_status_report"}
