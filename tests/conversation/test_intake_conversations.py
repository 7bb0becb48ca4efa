"""The intake in the chat, over the REST channel with the trained model and the demo database.

Every path of the booking conversation: full booking (with an intent-like description and a
retried confirmation), correction, no consent, a municipality outside the region, an unknown
municipality name, a question instead of an answer, a FAQ question in the middle, stop halfway,
"bel mij liever", the handoff's callback offer, cancel, move and a wrong e-mail address.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import yaml

from tests.conversation.conftest import Chat
from tests.support import REPO

REFERENCE_RE = re.compile(r"\bINT-[A-Z0-9]{6}\b")


def buttons(messages: list[dict]) -> list[dict]:
    return [b for m in messages for b in m.get("buttons") or []]


def text_of(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def database_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def database_text(url: str) -> str:
    """Every value in every table, as one string (to prove something is stored nowhere)."""
    with sqlite3.connect(database_file(url)) as connection:
        return "\n".join(connection.iterdump())


def leads_of(url: str, conversation_id: str) -> list[tuple[str, str, str, str | None]]:
    with sqlite3.connect(database_file(url)) as connection:
        return connection.execute(
            "SELECT reference, kind, status, description FROM leads WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchall()


def first_slot_payload(messages: list[dict]) -> str:
    payloads = [b["payload"] for b in buttons(messages) if b["payload"].startswith("/choose_slot")]
    assert payloads, text_of(messages)
    return payloads[0]


def answer_until_slots(chat: Chat, name: str, email: str) -> tuple[list[dict], int]:
    """Start to slot offer; returns the offer and how many messages the visitor sent."""
    steps = [
        ("ik wil een intake voor De Hurk in Eindhoven", "akkoord"),
        ("ja", "naam"),
        (name, "e-mailadres of telefoonnummer"),
        (email, "rol"),
        ("ondernemer", "organisatie"),
        ("/skip", "Wat voor gebied"),
        ("bedrijventerrein", "paar zinnen"),
    ]
    for typed, expected in steps:
        reply = text_of(chat.say(typed))
        assert expected in reply, (typed, reply)
    offer = chat.say("wij willen starten met het KVO")
    return offer, len(steps) + 1


def book(chat: Chat, name: str, email: str) -> str:
    offer, _ = answer_until_slots(chat, name, email)
    chat.say(first_slot_payload(offer))
    booked = text_of(chat.say("/confirm_booking"))
    assert "geboekt" in booked, booked
    match = REFERENCE_RE.search(booked)
    assert match, booked
    return match.group(0)


def test_full_booking_uses_what_was_said_and_a_retry_books_nothing_new(
    chat: Chat, chat_database_url: str
) -> None:
    offer, sent = answer_until_slots(chat, "Sanne de Vries", "sanne.devries@voorbeeld.nl")
    assert "Dank u" in text_of(offer)
    titles = [b["title"] for b in buttons(offer)]
    assert len([p for p in buttons(offer) if p["payload"].startswith("/choose_slot")]) == 3
    assert "Andere week" in titles and "Bel mij liever" in titles

    summary = chat.say(first_slot_payload(offer))
    shown = text_of(summary)
    # Area and municipality came from the first message; the description looked like an intent.
    for expected in ("Sanne de Vries", "De Hurk", "Eindhoven", "wij willen starten met het KVO"):
        assert expected in shown, shown
    assert [b["title"] for b in buttons(summary)] == ["Ja, boeken", "Nee, iets wijzigen"]

    booked = text_of(chat.say("/confirm_booking"))
    sent += 2
    assert "geboekt" in booked
    reference = REFERENCE_RE.search(booked)
    assert reference and not reference.group(0).startswith("KVO")
    assert sent <= 10
    again = text_of(chat.say("/confirm_booking"))
    # The same booking again; or, since that text would repeat the previous reply word for word,
    # the response generator's notice that it was just said.
    assert reference.group(0) in again or again == repeated_notice()
    leads = leads_of(chat_database_url, chat.sender)
    assert [(r, k, s) for r, k, s, _ in leads] == [(reference.group(0), "intake", "gepland")]
    assert leads[0][3] == "wij willen starten met het KVO"


def test_an_answer_can_be_corrected_before_confirming(chat: Chat, chat_database_url: str) -> None:
    offer, _ = answer_until_slots(chat, "Pieter Post", "pieter.post@voorbeeld.nl")
    chat.say(first_slot_payload(offer))
    menu = chat.say("/change_field")
    assert "Naam" in [b["title"] for b in buttons(menu)]
    assert "naam" in text_of(chat.say('/change_field{"intake_field": "intake_name"}'))
    summary = text_of(chat.say("Pieter van der Post"))
    assert "Pieter van der Post" in summary and "Klopt dit" in summary
    assert "geboekt" in text_of(chat.say("ja"))


def test_no_consent_offers_the_contact_route_and_stores_nothing(
    chat: Chat, chat_database_url: str
) -> None:
    ask = text_of(chat.say("Ik ben Gerrit Geenopslag en ik wil een intake"))
    assert "akkoord" in ask
    reply = text_of(chat.say("nee"))
    assert "niets van u bewaard" in reply
    assert "pvo-brabant-zeeland.nl" in reply
    assert leads_of(chat_database_url, chat.sender) == []
    assert "Geenopslag" not in database_text(chat_database_url)


def test_stop_halfway_leaves_no_trace(
    chat: Chat, chat_database_url: str, server_logs: dict[str, Path]
) -> None:
    chat.say("ik wil een intake plannen")
    chat.say("ja")
    chat.say("Karel Halverwege")
    assert "gemeente" in text_of(chat.say("karel.halverwege@voorbeeld.nl"))
    reply = text_of(chat.say("stop"))
    assert "gewist" in reply
    stored = database_text(chat_database_url)
    assert "Halverwege" not in stored and "halverwege@" not in stored
    assert leads_of(chat_database_url, chat.sender) == []
    actions_log = server_logs["actions"].read_text(errors="replace")
    assert "Halverwege" not in actions_log and "halverwege@" not in actions_log


def test_phone_number_is_accepted_and_stop_forgets_it(chat: Chat, chat_database_url: str) -> None:
    chat.say("ik wil een intake")
    chat.say("ja")
    chat.say("Tineke Telefoon")
    assert "gemeente" in text_of(chat.say("06 12345678"))
    chat.say("laat maar")
    stored = database_text(chat_database_url)
    assert "+31612345678" not in stored and "Tineke" not in stored


def test_municipality_outside_the_region(chat: Chat, chat_database_url: str) -> None:
    chat.say("ik wil een intake")
    chat.say("ja")
    chat.say("Anna Amsterdammer")
    chat.say("anna@voorbeeld.nl")
    reply = text_of(chat.say("Amsterdam"))
    assert "Noord-Brabant en Zeeland" in reply
    assert "eigen" in reply and "regio" in reply
    assert leads_of(chat_database_url, chat.sender) == []
    assert "Amsterdammer" not in database_text(chat_database_url)


def test_an_unknown_municipality_gets_close_suggestions(chat: Chat) -> None:
    chat.say("ik wil een intake")
    chat.say("ja")
    chat.say("Bram Bakker")
    chat.say("bram@voorbeeld.nl")
    reply = chat.say("Eindhovn")
    assert "Eindhoven" in [b["title"] for b in buttons(reply)]
    assert "gebied" in text_of(chat.say("Eindhoven"))


def test_a_faq_question_in_the_middle_is_answered_and_the_form_goes_on(chat: Chat) -> None:
    chat.say("ik wil een intake")
    chat.say("ja")
    chat.say("Fleur Faq")
    chat.say("fleur@voorbeeld.nl")
    reply = text_of(chat.say("hoe lang blijft het keurmerk geldig?"))
    assert "drie jaar" in reply
    assert "gemeente" in reply


def test_a_question_instead_of_a_name_is_checked(chat: Chat) -> None:
    chat.say("ik wil een intake")
    chat.say("ja")
    check = chat.say("hoe lang blijft het keurmerk geldig?")
    assert "/affirm" in [b["payload"] for b in buttons(check)]
    reply = text_of(chat.say("/deny"))
    assert "drie jaar" in reply and "naam" in reply


def test_bel_mij_liever_makes_a_callback_request(chat: Chat, chat_database_url: str) -> None:
    offer, _ = answer_until_slots(chat, "Carla Callback", "carla@voorbeeld.nl")
    assert "/request_callback" in [b["payload"] for b in buttons(offer)]
    # Name and address are known: only the question is asked.
    assert "vraag" in text_of(chat.say("/request_callback"))
    done = text_of(chat.say("Wij willen weten wat het traject kost"))
    assert "terugbelverzoek is doorgegeven" in done
    kinds = {kind for _, kind, _, _ in leads_of(chat_database_url, chat.sender)}
    assert kinds == {"terugbelverzoek"}


@pytest.mark.parametrize("typed", ["bel mij liever", "Kunt u mij niet gewoon terugbellen?"])
def test_bel_mij_liever_in_the_middle_of_the_intake_keeps_what_was_said(
    chat: Chat, chat_database_url: str, typed: str
) -> None:
    chat.say("ik wil een intake")
    chat.say("ja")
    assert "e-mailadres of telefoonnummer" in text_of(chat.say("Bram Bellen"))
    switched = text_of(chat.say(typed))
    # The intake gives way to a callback request that asks only what is still missing.
    assert "terugbelverzoek" in switched and "e-mailadres of telefoonnummer" in switched
    assert "Wat is uw naam?" not in switched
    assert "vraag" in text_of(chat.say("06 13572468"))
    assert "doorgegeven" in text_of(chat.say("Wat kost een traject voor ons winkelcentrum"))
    assert [k for _, k, _, _ in leads_of(chat_database_url, chat.sender)] == ["terugbelverzoek"]


def test_handoff_offers_a_callback_request(chat: Chat, chat_database_url: str) -> None:
    reply = chat.say("ik wil iemand spreken")
    assert "/request_callback" in [b["payload"] for b in buttons(reply)]
    assert "akkoord" in text_of(chat.say("/request_callback"))
    chat.say("ja")
    chat.say("Hans Handoff")
    chat.say("0201234567")
    assert "doorgegeven" in text_of(chat.say("Een vraag over de enquête"))
    assert [k for _, k, _, _ in leads_of(chat_database_url, chat.sender)] == ["terugbelverzoek"]


def test_cancel_with_reference_and_email(chat: Chat, rasa_url: str, chat_database_url: str) -> None:
    reference = book(chat, "Cor Cancel", "cor.cancel@voorbeeld.nl")
    other = Chat(rasa_url, chat.sender + "-cancel")
    assert "referentie" in text_of(other.say("ik wil mijn intake annuleren"))
    other.say(reference)
    reply = text_of(other.say("cor.cancel@voorbeeld.nl"))
    assert "geannuleerd" in reply
    assert leads_of(chat_database_url, chat.sender)[0][2] == "geannuleerd"


def test_move_with_reference_and_email(chat: Chat, rasa_url: str, chat_database_url: str) -> None:
    reference = book(chat, "Mies Move", "mies.move@voorbeeld.nl")
    other = Chat(rasa_url, chat.sender + "-move")
    other.say(f"ik wil mijn intake {reference} verzetten")
    offer = other.say("mies.move@voorbeeld.nl")
    payload = first_slot_payload(offer)
    moved = text_of(other.say(payload))
    assert "verzet naar" in moved and reference in moved
    assert leads_of(chat_database_url, chat.sender)[0][2] == "gepland"


def test_a_wrong_email_is_answered_like_an_unknown_reference(chat: Chat, rasa_url: str) -> None:
    reference = book(chat, "Wim Wrong", "wim.wrong@voorbeeld.nl")
    wrong = Chat(rasa_url, chat.sender + "-wrong")
    wrong.say("ik wil mijn intake annuleren")
    wrong.say(reference)
    wrong_reply = text_of(wrong.say("iemand.anders@voorbeeld.nl"))
    unknown = Chat(rasa_url, chat.sender + "-unknown")
    unknown.say("ik wil mijn intake annuleren")
    unknown.say("INT-ZZZZZZ")
    unknown_reply = text_of(unknown.say("wim.wrong@voorbeeld.nl"))
    assert "geen intake vinden" in wrong_reply
    assert wrong_reply == unknown_reply


def repeated_notice() -> str:
    domain = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"]["utter_repeated"][0]["text"]


@pytest.mark.parametrize("payload", ['/choose_slot{"intake_slot": "2001-01-01T08:00Z"}'])
def test_a_slot_payload_without_an_intake_books_nothing(chat: Chat, payload: str) -> None:
    chat.say(payload)
    reply = text_of(chat.say("/confirm_booking"))
    assert "geboekt" not in reply
