"""Booking an intake and requesting a callback, against real databases."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kvo.availability import free_slots
from kvo.intake import (
    Booked,
    CallbackRequested,
    LimitReached,
    SlotTaken,
    finalize_booking,
    generate_reference,
    normalize_booking_reference,
    request_callback,
)
from kvo.intake_drafts import load_draft, save_fields
from kvo.lead_fields import InvalidFields, LeadFields, lead_summary
from kvo.models import (
    Booking,
    ContactArea,
    Facilitator,
    Lead,
    LeadKind,
    LeadStatus,
    MailKind,
    OutboxMessage,
)
from kvo.settings import Settings
from tests.kvo.intake_support import MONDAY, TUESDAY_9, TUESDAY_10, intake_fields, local

AddFacilitator = Callable[..., Facilitator]
ZWB = ContactArea.ZEELAND_WEST_BRABANT


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _mail_kinds(session: Session, lead_id: int) -> list[str]:
    return sorted(
        m.value
        for m in session.scalars(select(OutboxMessage.kind).where(OutboxMessage.lead_id == lead_id))
    )


def test_booking_stores_the_lead_its_slot_and_the_mails(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    facilitator = add_facilitator()
    save_fields(kvo_session, "conv-1", {"name": "Jan de Vries"}, MONDAY, settings=kvo_settings)
    outcome = finalize_booking(
        kvo_session, intake_fields(), TUESDAY_9, "conv-1", "client-a", MONDAY, settings=kvo_settings
    )
    assert outcome == Booked(
        outcome.reference,  # type: ignore[union-attr]
        TUESDAY_9,
        TUESDAY_10,
        "Zeeland en West-Brabant",
    )
    assert re.fullmatch(r"INT-[A-HJ-NP-Z2-9]{6}", outcome.reference)  # type: ignore[union-attr]
    lead = kvo_session.scalars(select(Lead)).one()
    assert lead.kind is LeadKind.INTAKE and lead.status is LeadStatus.GEPLAND
    assert lead.contact_area is ZWB  # derived from Breda, never taken from the chat
    assert (lead.email, lead.phone) == ("jan.de.vries@example.org", "+31612345678")
    assert lead.conversation_id == "conv-1" and len(lead.conversation_key or "") == 64
    assert lead.facilitator_id == facilitator.id
    assert lead.booking is not None and lead.booking.starts_at == TUESDAY_9
    assert [e.event for e in lead.events] == ["aangemaakt"]
    # Booked on Monday for Tuesday: no reminder (see the tests below).
    assert _mail_kinds(kvo_session, lead.id) == [
        "facilitator_booking",
        "staff_new_booking",
        "visitor_booking",
    ]
    assert load_draft(kvo_session, "conv-1", MONDAY) == {}  # the booking consumed the draft


def test_reminder_goes_out_the_working_day_before(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator(weekdays=(1,))  # Tuesdays only
    tuesday_next_week = local(2026, 12, 8, 9)
    outcome = finalize_booking(
        kvo_session, intake_fields(), tuesday_next_week, "c", "k", MONDAY, settings=kvo_settings
    )
    assert isinstance(outcome, Booked)
    reminders = kvo_session.scalars(
        select(OutboxMessage.next_attempt_at).where(
            OutboxMessage.kind.in_([MailKind.VISITOR_REMINDER, MailKind.FACILITATOR_REMINDER])
        )
    ).all()
    assert reminders == [local(2026, 12, 7, 9)] * 2  # Monday 7 December, 09:00


def test_no_reminder_when_booked_the_working_day_before(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    outcome = finalize_booking(
        kvo_session, intake_fields(), TUESDAY_9, "c", "k", MONDAY, settings=kvo_settings
    )
    assert isinstance(outcome, Booked)
    kinds = set(kvo_session.scalars(select(OutboxMessage.kind)))
    assert MailKind.VISITOR_REMINDER not in kinds and MailKind.FACILITATOR_REMINDER not in kinds


def test_a_retried_confirmation_creates_nothing_new(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    add_facilitator()  # a second free facilitator must not get a second booking
    first = finalize_booking(
        kvo_session, intake_fields(), TUESDAY_9, "conv-1", "k", MONDAY, settings=kvo_settings
    )
    counts = (_count(kvo_session, Lead), _count(kvo_session, OutboxMessage))
    # The retry may even come without the (already consumed) draft's fields.
    again = finalize_booking(
        kvo_session, LeadFields(), TUESDAY_9, "conv-1", "k", MONDAY, settings=kvo_settings
    )
    assert isinstance(first, Booked) and isinstance(again, Booked)
    assert again == Booked(
        first.reference, first.starts_at, first.ends_at, first.contact_area, False
    )
    assert (_count(kvo_session, Lead), _count(kvo_session, OutboxMessage)) == counts


def test_the_second_visitor_for_a_slot_gets_fresh_alternatives(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    first = finalize_booking(
        kvo_session, intake_fields(), TUESDAY_9, "a", "ka", MONDAY, settings=kvo_settings
    )
    second = finalize_booking(
        kvo_session,
        intake_fields(email="piet@example.org", phone=None),
        TUESDAY_9,
        "b",
        "kb",
        MONDAY,
        settings=kvo_settings,
    )
    assert isinstance(first, Booked)
    assert isinstance(second, SlotTaken)
    assert [s.starts_at for s in second.alternatives] == [
        TUESDAY_10,
        local(2026, 12, 1, 11),
        local(2026, 12, 2, 9),
    ]
    assert _count(kvo_session, Lead) == 1  # the loser left nothing behind


def test_two_facilitators_share_a_start_time(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    one, two = add_facilitator(), add_facilitator()
    a = finalize_booking(
        kvo_session, intake_fields(), TUESDAY_9, "a", "ka", MONDAY, settings=kvo_settings
    )
    b = finalize_booking(
        kvo_session,
        intake_fields(email="b@example.org", phone=None),
        TUESDAY_9,
        "b",
        "kb",
        MONDAY,
        settings=kvo_settings,
    )
    assert isinstance(a, Booked) and isinstance(b, Booked)
    used = set(kvo_session.scalars(select(Booking.facilitator_id)))
    assert used == {one.id, two.id}
    assert (
        free_slots(kvo_session, ZWB, MONDAY, count=1, settings=kvo_settings)[0].starts_at
        == TUESDAY_10
    )


def test_the_database_refuses_a_double_booking(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    facilitator = add_facilitator()
    booked = finalize_booking(
        kvo_session, intake_fields(), TUESDAY_9, "a", "k", MONDAY, settings=kvo_settings
    )
    assert isinstance(booked, Booked)
    other = Lead(
        reference=generate_reference(),
        kind=LeadKind.INTAKE,
        status=LeadStatus.GEPLAND,
        consent_at=MONDAY,
    )
    kvo_session.add(other)
    kvo_session.flush()
    with pytest.raises(IntegrityError):
        kvo_session.execute(
            insert(Booking).values(
                lead_id=other.id,
                facilitator_id=facilitator.id,
                starts_at=TUESDAY_9,
                ends_at=TUESDAY_10,
            )
        )


def test_the_database_refuses_an_example_or_kvo_reference(kvo_session: Session) -> None:
    for reference in ("KVO-200012", "INT-ABC23", "int-abcdef", "INT_ABCDEF"):
        with pytest.raises(IntegrityError), kvo_session.begin_nested():
            kvo_session.add(
                Lead(
                    reference=reference,
                    kind=LeadKind.CALLBACK,
                    status=LeadStatus.NIEUW,
                    consent_at=MONDAY,
                )
            )
            kvo_session.flush()


def test_references_are_random_and_never_start_with_kvo() -> None:
    references = {generate_reference() for _ in range(2000)}
    assert len(references) == 2000
    for reference in references:
        assert re.fullmatch(r"INT-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}", reference)
    assert normalize_booking_reference("mijn nummer is int abc234") == "INT-ABC234"
    assert normalize_booking_reference("INT-ABC23") is None
    assert normalize_booking_reference("KVO-2000-1234") is None
    assert normalize_booking_reference("INT-ABC2340") is None


@pytest.mark.parametrize(
    ("overrides", "problems"),
    [
        ({"name": "  "}, ("name",)),
        ({"name": "12345"}, ("name",)),
        ({"email": "jan@", "phone": None}, ("email",)),
        ({"email": None, "phone": "12"}, ("phone",)),
        ({"email": None, "phone": None}, ("contact",)),
        ({"municipality": "Amsterdam"}, ("municipality_outside_region",)),
        ({"municipality": "Nergenshuizen"}, ("municipality",)),
        ({"area_name": None}, ("area_name",)),
        ({"role": "koning"}, ("role",)),
        ({"area_kind": "woonwijk"}, ("area_kind",)),
        ({"consent_at": None}, ("consent",)),
        ({"description": "x" * 1001}, ("description",)),
    ],
)
def test_invalid_answers_are_named(
    overrides: dict[str, object],
    problems: tuple[str, ...],
    kvo_session: Session,
    add_facilitator: AddFacilitator,
    kvo_settings: Settings,
) -> None:
    add_facilitator()
    outcome = finalize_booking(
        kvo_session, intake_fields(**overrides), TUESDAY_9, "c", "k", MONDAY, settings=kvo_settings
    )
    assert outcome == InvalidFields(problems)
    assert _count(kvo_session, Lead) == 0


def test_optional_answers_may_be_skipped(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    fields = intake_fields(email=None, organisation="", area_kind=None, description=None)
    assert isinstance(
        finalize_booking(kvo_session, fields, TUESDAY_9, "c", "k", MONDAY, settings=kvo_settings),
        Booked,
    )
    lead = kvo_session.scalars(select(Lead)).one()
    assert (lead.email, lead.organisation, lead.area_kind) == (None, None, None)
    # Without an e-mail address there is no visitor mail, the rest still goes out.
    assert "visitor_booking" not in _mail_kinds(kvo_session, lead.id)
    assert "staff_new_booking" in _mail_kinds(kvo_session, lead.id)


def test_a_slot_that_is_not_bookable_is_refused(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    for start in (local(2026, 11, 30, 11), local(2026, 12, 25, 9), local(2026, 12, 1, 9, 30)):
        outcome = finalize_booking(
            kvo_session, intake_fields(), start, "c", "k", MONDAY, settings=kvo_settings
        )
        assert isinstance(outcome, SlotTaken) and outcome.alternatives
    assert _count(kvo_session, Lead) == 0


def test_limits_per_client_and_per_address(
    kvo_session: Session,
    add_facilitator: AddFacilitator,
    make_settings: Callable[..., Settings],
) -> None:
    add_facilitator()
    settings = make_settings(bookings_per_client_per_day=2, bookings_per_email_per_day=1)
    slots = [s.starts_at for s in free_slots(kvo_session, ZWB, MONDAY, count=7, settings=settings)]

    def book(index: int, client: str | None, email: str) -> object:
        return finalize_booking(
            kvo_session,
            intake_fields(email=email, phone=None),
            slots[index],
            f"conv-{index}",
            client,
            MONDAY,
            settings=settings,
        )

    client_x, client_y = "a" * 32, "b" * 32  # the channels' keyed hashes of client addresses
    assert isinstance(book(0, client_x, "a@example.org"), Booked)
    assert isinstance(book(1, client_x, "b@example.org"), Booked)
    assert book(2, client_x, "c@example.org") == LimitReached()  # per client
    assert book(3, client_y, "a@example.org") == LimitReached()  # per address
    assert isinstance(book(4, None, "d@example.org"), Booked)  # unknown client: address only
    assert isinstance(book(6, "not-a-key", "e@example.org"), Booked)  # odd key: unknown client
    # A day later the limits are free again.
    later = finalize_booking(
        kvo_session,
        intake_fields(email="a@example.org", phone=None),
        slots[5],
        "conv-5",
        client_x,
        MONDAY + timedelta(hours=24, minutes=1),
        settings=settings,
    )
    assert isinstance(later, Booked | SlotTaken)  # the slot may be "too soon" by then
    assert not isinstance(later, LimitReached)


def test_callback_request(kvo_session: Session, kvo_settings: Settings) -> None:
    fields = LeadFields(
        name="Els", phone="0612345678", description="Kunt u mij bellen?", consent_at=MONDAY
    )
    outcome = request_callback(kvo_session, fields, "conv-cb", "k", MONDAY, settings=kvo_settings)
    assert isinstance(outcome, CallbackRequested) and outcome.created
    lead = kvo_session.scalars(select(Lead)).one()
    assert lead.kind is LeadKind.CALLBACK and lead.status is LeadStatus.NIEUW
    assert lead.slot_start is None and lead.contact_area is None
    assert _mail_kinds(kvo_session, lead.id) == ["staff_new_callback"]  # phone only
    again = request_callback(kvo_session, fields, "conv-cb", "k", MONDAY, settings=kvo_settings)
    assert again == CallbackRequested(outcome.reference, created=False)
    assert _count(kvo_session, Lead) == 1


def test_callback_with_municipality_and_email(kvo_session: Session, kvo_settings: Settings) -> None:
    fields = LeadFields(
        name="Els", email="els@example.org", municipality="Veghel", consent_at=MONDAY
    )
    outcome = request_callback(kvo_session, fields, "c", "k", MONDAY, settings=kvo_settings)
    assert isinstance(outcome, CallbackRequested)
    lead = kvo_session.scalars(select(Lead)).one()
    assert (lead.municipality, lead.contact_area) == ("Meierijstad", ContactArea.OOST_BRABANT)
    assert _mail_kinds(kvo_session, lead.id) == ["staff_new_callback", "visitor_callback"]
    assert request_callback(
        kvo_session,
        LeadFields(name="X", consent_at=MONDAY),
        "d",
        "k",
        MONDAY,
        settings=kvo_settings,
    ) == InvalidFields(("contact",))


def test_fields_from_a_draft_and_the_summary(kvo_session: Session, kvo_settings: Settings) -> None:
    draft = save_fields(
        kvo_session,
        "conv",
        {
            "name": "Jan",
            "phone": "0612345678",
            "municipality": "den bosch",
            "area_name": "De Rietvelden",
            "role": "Parkmanagement",
            "consent_at": MONDAY.isoformat(),
        },
        MONDAY,
        settings=kvo_settings,
    )
    fields = LeadFields.from_draft(draft)
    assert fields.consent_at == MONDAY
    assert lead_summary(fields, TUESDAY_9, TUESDAY_10, settings=kvo_settings) == (
        ("Naam", "Jan"),
        ("Telefoonnummer", "06 12345678"),
        ("Uw rol", "parkmanagement"),
        ("Gebied", "De Rietvelden"),
        ("Gemeente", "'s-Hertogenbosch"),
        ("Afspraak", "dinsdag 1 december 2026 van 09:00 tot 10:00 uur"),
    )
