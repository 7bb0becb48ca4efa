"""Conversations over the REST channel: welcome, FAQ, handoff, bad input and the status check."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conversation.conftest import Chat
from tests.support import Engine

DUTCH_MARKERS = (" de ", " het ", " een ", " u ", "ik ", "uw ")


def looks_dutch(text: str) -> bool:
    lowered = f" {text.lower()} "
    return sum(marker in lowered for marker in DUTCH_MARKERS) >= 2


def test_welcome_offers_the_three_paths(chat: Chat) -> None:
    messages = chat.say("hallo")
    buttons = [b["title"] for m in messages for b in m.get("buttons", [])]
    assert buttons == ["Vragen over het KVO", "Status van ons traject", "Intake plannen"]
    assert "digitale assistent" in messages[0]["text"]


def test_faq_answer_is_dutch_and_formal(chat: Chat) -> None:
    answer = chat.texts("Hoe lang blijft het keurmerk geldig?")
    assert "drie jaar" in answer
    assert looks_dutch(answer)
    assert " je " not in f" {answer.lower()} "  # formal "u"


def test_faq_answer_buttons_carry_a_valid_payload(chat: Chat) -> None:
    messages = chat.say("wat houdt het keurmerk veilig ondernemen in?")
    payloads = [b["payload"] for m in messages for b in m.get("buttons", [])]
    assert payloads
    for payload in payloads:
        assert "{{" not in payload
        if payload.startswith("/choose_faq"):
            assert json.loads(payload.removeprefix("/choose_faq"))["faq_topic"]


def test_faq_button_answers_the_chosen_topic(chat: Chat) -> None:
    answer = chat.texts('/choose_faq{"faq_topic": "certificering_audit"}')
    assert "Kiwa NCP" in answer


def test_handoff_names_the_contact_route(chat: Chat) -> None:
    answer = chat.texts("ik wil graag een medewerker spreken")
    assert "pvo-brabant-zeeland.nl" in answer
    # The hours the test stack configures (PVO_OFFICE_HOURS); unset, none are shown
    # (tests/bot/engine_side_checks.py).
    assert "maandag t/m vrijdag van 09:00 tot 17:00" in answer
    assert "{" not in answer  # every variable filled


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \t  ",
        "kvo " * 1250,  # 5,000 characters
        "🙈🙈🔥",
        "<script>alert('x')</script><b>hallo</b>",
        "'; DROP TABLE trajectory; --",
        "SELECT * FROM users WHERE 1=1",
        "ßø¿ ¡ ÆÐ Ω≈ç√ 漢字",
    ],
    ids=["empty", "whitespace", "5000-chars", "emoji", "html", "sql-drop", "sql-select", "unicode"],
)
def test_bad_input_gets_a_dutch_reply_and_the_conversation_goes_on(chat: Chat, text: str) -> None:
    replies = chat.say(text)
    reply_text = "\n".join(m.get("text") or "" for m in replies)
    assert replies, "the assistant must always answer"
    assert looks_dutch(reply_text)
    assert "<script" not in reply_text and "DROP TABLE" not in reply_text  # input is never echoed
    # The same conversation still works afterwards.
    assert "drie jaar" in chat.texts("hoe lang is het keurmerk geldig?")


def test_english_gets_a_dutch_reply_that_says_so(chat: Chat) -> None:
    reply = chat.texts("Hello, what is the KVO certificate about?")
    assert "Nederlands" in reply
    assert looks_dutch(reply)


def test_out_of_scope_says_what_it_can_do(chat: Chat) -> None:
    reply = chat.texts("wie wint het wk voetbal?")
    assert "Keurmerk Veilig Ondernemen" in reply


def check(chat: Chat, reference: str, code: str) -> str:
    chat.say("ik wil de status van ons traject weten")
    chat.say(reference)
    return chat.texts(code)


def test_status_happy_path_with_sloppy_input(chat: Chat) -> None:
    answer = check(chat, "kvo 2024 31", "wvz4 lwux")
    assert "KVO-2024-0031" in answer
    assert "stap 2 van 5" in answer
    assert "Binnenstad Breda" in answer
    assert "WVZ4" not in answer.upper() and "LWUX" not in answer.upper()  # code never echoed


def test_access_code_is_cleared_from_the_tracker(chat: Chat, engine: Engine) -> None:
    check(chat, "KVO-2024-0031", "WVZ4-LWUX")
    tracker = httpx.get(engine.api(f"/conversations/{chat.sender}/tracker"), timeout=10).json()
    assert tracker["slots"]["access_code"] is None
    assert tracker["slots"]["reference_code"] is None
    bot_texts = " ".join(e.get("text") or "" for e in tracker["events"] if e["event"] == "bot")
    assert "WVZ4" not in bot_texts and "LWUX" not in bot_texts


def test_wrong_code_and_unknown_reference_get_the_same_answer(rasa_url: str) -> None:
    wrong_code = check(Chat(rasa_url, "test-same-1"), "KVO-2024-0044", "ABCD-EFGH")
    unknown = check(Chat(rasa_url, "test-same-2"), "KVO-2019-0777", "ABCD-EFGH")
    assert wrong_code == unknown
    assert "combinatie" in wrong_code


def test_expired_certificate_of_a_certified_area_offers_an_intake(chat: Chat) -> None:
    messages = (chat.say("status KVO-2024-0018"), chat.say("RC22-P3Y9"))[1]
    text = "\n".join(m.get("text") or "" for m in messages)
    assert "verlopen" in text
    assert "op weg naar ster" not in text  # certified: the stars are earned
    payloads = [b["payload"] for m in messages for b in m.get("buttons", [])]
    assert "/book_intake" in payloads


def test_terneuzen_has_its_fourth_star_and_is_already_recertifying(chat: Chat) -> None:
    text = chat.texts("KVO-2024-0012 code 4K92-YP4M")
    assert "op weg naar ster 5" in text
    assert "De hercertificering is al bezig." in text
    assert "Begin op tijd" not in text


def test_lockout_per_conversation(rasa_url: str) -> None:
    chat = Chat(rasa_url, "test-lockout-conversation")
    for attempt in range(5):
        assert "combinatie" in check(chat, f"KVO-2018-{attempt + 1:04d}", "ABCD-EFGH")
    refused = check(chat, "KVO-2024-0023", "Q6TA-37UR")  # even the right code is refused now
    assert "te vaak" in refused
    assert "pvo-brabant-zeeland.nl" in refused


def test_lockout_per_reference_across_conversations(rasa_url: str) -> None:
    for attempt in range(5):
        check(Chat(rasa_url, f"test-lockout-ref-{attempt}"), "KVO-2025-0009", "ABCD-EFGH")
    refused = check(Chat(rasa_url, "test-lockout-ref-new"), "KVO-2025-0009", "UG9L-GTHC")
    assert "te vaak" in refused


def test_stop_mid_form_and_ask_a_faq_mid_form(chat: Chat) -> None:
    chat.say("hoe staat ons traject ervoor")
    assert "drie jaar" in chat.texts("hoe lang is het certificaat geldig?")
    assert "stop" in chat.texts("stop").lower()
    # After stopping, a code-like message is not taken as an answer to the form.
    assert "stap" not in chat.texts("hallo")


def test_faq_mid_form_then_continue(chat: Chat) -> None:
    chat.say("status van ons kvo traject")
    chat.say("KVO-2024-0031")
    mid = chat.texts("wat kost een audit?")
    assert "toegangscode" in mid  # the form asks again for the code after the answer
    assert "stap 2 van 5" in chat.texts("WVZ4-LWUX")


def test_access_codes_never_reach_the_logs(rasa_url: str, server_logs: dict) -> None:
    chat = Chat(rasa_url, "test-logs")
    assert "stap 2 van 5" in check(chat, "KVO-2024-0031", "wvz4-lwux")
    check(chat, "KVO-2024-0044", "ZZZZ-YYYY")  # a wrong code must not be logged either
    for log in server_logs.values():
        text = log.read_text(errors="replace").upper().replace("-", "")
        assert "WVZ4LWUX" not in text and "ZZZZYYYY" not in text, log
    # The whole session logged no error (e.g. a response template Rasa could not fill).
    assert " ERROR " not in server_logs["rasa"].read_text(errors="replace")
