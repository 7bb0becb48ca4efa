"""Cancel and move by booking reference + e-mail address, under the status-check lockout."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from kvo.availability import free_slots
from kvo.intake import (
    Booked,
    BookingFound,
    CallbackRequested,
    Cancelled,
    LockedOut,
    Moved,
    NotChangeable,
    NotFound,
    SlotTaken,
    cancel_booking,
    finalize_booking,
    move_booking,
    request_callback,
    verify_booking,
)
from kvo.lead_fields import LeadFields
from kvo.models import (
    Booking,
    ContactArea,
    Facilitator,
    FailedAttempt,
    Lead,
    LeadStatus,
    MailKind,
    MailStatus,
    OutboxMessage,
)
from kvo.settings import Settings
from tests.kvo.intake_support import MONDAY, TUESDAY_9, TUESDAY_10, intake_fields, local

AddFacilitator = Callable[..., Facilitator]
ZWB = ContactArea.ZEELAND_WEST_BRABANT
EMAIL = "jan.de.vries@example.org"
WEDNESDAY_9 = local(2026, 12, 2, 9)
FRIDAY_BEFORE = local(2026, 11, 27, 10)


def _book(session: Session, settings: Settings, start=None) -> Booked:  # type: ignore[no-untyped-def]
    # Booked on the Friday before, so the reminders are queued too.
    outcome = finalize_booking(
        session,
        intake_fields(),
        start or TUESDAY_9,
        "conv-book",
        "k",
        FRIDAY_BEFORE,
        settings=settings,
    )
    assert isinstance(outcome, Booked)
    return outcome


def _mails(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(
        select(OutboxMessage.kind, OutboxMessage.status).order_by(OutboxMessage.id)
    )
    return [(k.value, s.value) for k, s in rows]


def test_verify_shows_what_the_visitor_may_do(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    booked = _book(kvo_session, kvo_settings)
    found = verify_booking(
        kvo_session,
        booked.reference.lower(),
        "  JAN.de.vries@example.org ",
        "chat-2",
        MONDAY,
        settings=kvo_settings,
    )
    assert found == BookingFound(
        booked.reference, "intake", "gepland", TUESDAY_9, TUESDAY_10, ZWB.value, True, True
    )
    by_phone = verify_booking(
        kvo_session, booked.reference, "+31 6 1234 5678", "chat-3", MONDAY, settings=kvo_settings
    )
    assert isinstance(by_phone, BookingFound)


def test_unknown_reference_and_wrong_address_look_the_same(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    booked = _book(kvo_session, kvo_settings)
    wrong_address = cancel_booking(
        kvo_session,
        booked.reference,
        "iemand@example.org",
        "attacker-1",
        MONDAY,
        settings=kvo_settings,
    )
    unknown = cancel_booking(
        kvo_session, "INT-ZZZZZZ", EMAIL, "attacker-2", MONDAY, settings=kvo_settings
    )
    garbage = cancel_booking(
        kvo_session, "geen idee", EMAIL, "attacker-3", MONDAY, settings=kvo_settings
    )
    assert wrong_address == unknown == garbage == NotFound()
    keys = sorted(kvo_session.scalars(select(FailedAttempt.reference_key)))
    assert keys == sorted(["", "INT-ZZZZZZ", booked.reference])
    # Nothing changed.
    assert kvo_session.scalars(select(Lead.status)).one() is LeadStatus.GEPLAND


def test_unknown_and_wrong_do_the_same_database_work(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    booked = _book(kvo_session, kvo_settings)
    engine = kvo_session.get_bind()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0])

    def work(reference: str, conversation: str) -> list[str]:
        statements.clear()
        verify_booking(
            kvo_session, reference, "x@example.org", conversation, MONDAY, settings=kvo_settings
        )
        return list(statements)

    event.listen(engine, "before_cursor_execute", record)
    try:
        known = work(booked.reference, "a")
        unknown = work("INT-ZZZZZZ", "b")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    # The same statements in the same order: no path is cheaper (or slower) to observe.
    assert known == unknown
    assert known.count("SELECT") >= 2 and "INSERT" in known


def test_lockout_refuses_even_the_right_address(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    booked = _book(kvo_session, kvo_settings)
    for i in range(kvo_settings.lockout_max_attempts):
        outcome = verify_booking(
            kvo_session,
            booked.reference,
            f"guess{i}@example.org",
            f"attacker-{i}",
            MONDAY + timedelta(minutes=i),
            settings=kvo_settings,
        )
        assert outcome == NotFound()
    locked = cancel_booking(
        kvo_session,
        booked.reference,
        EMAIL,
        "owner",
        MONDAY + timedelta(minutes=10),
        settings=kvo_settings,
    )
    assert locked == LockedOut(MONDAY + timedelta(minutes=60))
    assert kvo_session.scalars(select(Lead.status)).one() is LeadStatus.GEPLAND
    later = cancel_booking(
        kvo_session,
        booked.reference,
        EMAIL,
        "owner",
        MONDAY + timedelta(minutes=61),
        settings=kvo_settings,
    )
    assert isinstance(later, Cancelled)


def test_cancel_frees_the_slot_and_tells_everyone(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    booked = _book(kvo_session, kvo_settings)
    outcome = cancel_booking(
        kvo_session, booked.reference, EMAIL, "chat-2", MONDAY, settings=kvo_settings
    )
    assert outcome == Cancelled(booked.reference, TUESDAY_9, TUESDAY_10)
    lead = kvo_session.scalars(select(Lead)).one()
    assert lead.status is LeadStatus.GEANNULEERD and lead.ics_sequence == 1
    assert kvo_session.scalars(select(Booking)).all() == []
    assert (
        free_slots(kvo_session, ZWB, MONDAY, count=1, settings=kvo_settings)[0].starts_at
        == TUESDAY_9
    )
    assert _mails(kvo_session) == [
        ("staff_new_booking", "pending"),
        ("visitor_booking", "pending"),
        ("facilitator_booking", "pending"),
        ("visitor_reminder", "cancelled"),
        ("facilitator_reminder", "cancelled"),
        ("staff_cancelled", "pending"),
        ("visitor_cancelled", "pending"),
        ("facilitator_cancelled", "pending"),
    ]
    assert [e.event for e in lead.events] == ["aangemaakt", "geannuleerd"]
    again = cancel_booking(
        kvo_session, booked.reference, EMAIL, "chat-3", MONDAY, settings=kvo_settings
    )
    assert again == Cancelled(booked.reference, TUESDAY_9, TUESDAY_10, already=True)
    assert len(_mails(kvo_session)) == 8  # a retry sends nothing new
    # The freed slot can be booked again, even from the same conversation.
    rebooked = finalize_booking(
        kvo_session, intake_fields(), TUESDAY_9, "conv-book", "k2", MONDAY, settings=kvo_settings
    )
    assert isinstance(rebooked, Booked) and rebooked.created


def test_move_to_another_slot(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    facilitator = add_facilitator()
    booked = _book(kvo_session, kvo_settings)
    outcome = move_booking(
        kvo_session, booked.reference, EMAIL, WEDNESDAY_9, "chat-2", MONDAY, settings=kvo_settings
    )
    assert outcome == Moved(
        booked.reference, TUESDAY_9, WEDNESDAY_9, WEDNESDAY_9 + timedelta(hours=1)
    )
    lead = kvo_session.scalars(select(Lead)).one()
    assert (lead.slot_start, lead.ics_sequence, lead.facilitator_id) == (
        WEDNESDAY_9,
        1,
        facilitator.id,
    )
    assert kvo_session.scalars(select(Booking.starts_at)).one() == WEDNESDAY_9
    assert (
        free_slots(kvo_session, ZWB, MONDAY, count=1, settings=kvo_settings)[0].starts_at
        == TUESDAY_9
    )
    new_mails = _mails(kvo_session)[5:]
    assert new_mails == [
        ("staff_moved", "pending"),
        ("visitor_moved", "pending"),
        ("facilitator_moved", "pending"),
        ("visitor_reminder", "pending"),
        ("facilitator_reminder", "pending"),
    ]
    assert ("visitor_reminder", "cancelled") in _mails(kvo_session)[:5]
    reminder_at = kvo_session.scalars(
        select(OutboxMessage.next_attempt_at).where(
            OutboxMessage.kind == MailKind.VISITOR_REMINDER,
            OutboxMessage.status == MailStatus.PENDING,
        )
    ).one()
    assert reminder_at == local(2026, 12, 1, 9)


def test_move_to_a_taken_slot_offers_alternatives_and_keeps_the_booking(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    booked = _book(kvo_session, kvo_settings)
    other = finalize_booking(
        kvo_session,
        intake_fields(email="b@example.org", phone=None),
        WEDNESDAY_9,
        "b",
        "kb",
        FRIDAY_BEFORE,
        settings=kvo_settings,
    )
    assert isinstance(other, Booked)
    outcome = move_booking(
        kvo_session, booked.reference, EMAIL, WEDNESDAY_9, "chat-2", MONDAY, settings=kvo_settings
    )
    assert isinstance(outcome, SlotTaken) and outcome.alternatives
    assert WEDNESDAY_9 not in [s.starts_at for s in outcome.alternatives]
    starts = sorted(kvo_session.scalars(select(Booking.starts_at)))
    assert starts == [TUESDAY_9, WEDNESDAY_9]


def test_move_to_another_facilitator_cancels_with_the_old_one(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator(weekdays=(1,))  # Tuesdays
    wednesday_only = add_facilitator(weekdays=(2,))
    booked = _book(kvo_session, kvo_settings)
    outcome = move_booking(
        kvo_session, booked.reference, EMAIL, WEDNESDAY_9, "chat-2", MONDAY, settings=kvo_settings
    )
    assert isinstance(outcome, Moved)
    assert kvo_session.scalars(select(Lead.facilitator_id)).one() == wednesday_only.id
    kinds = [kind for kind, _ in _mails(kvo_session)[5:]]
    assert kinds[:4] == [
        "staff_moved",
        "visitor_moved",
        "facilitator_cancelled",
        "facilitator_booking",
    ]


def test_what_cannot_be_changed(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    booked = _book(kvo_session, kvo_settings)
    after_start = local(2026, 12, 1, 9, 30)
    assert cancel_booking(
        kvo_session, booked.reference, EMAIL, "c", after_start, settings=kvo_settings
    ) == NotChangeable("voorbij")
    assert move_booking(
        kvo_session, booked.reference, EMAIL, WEDNESDAY_9, "c", after_start, settings=kvo_settings
    ) == NotChangeable("voorbij")

    callback = request_callback(
        kvo_session,
        LeadFields(name="Els", email="els@example.org", consent_at=MONDAY),
        "cb",
        "k",
        MONDAY,
        settings=kvo_settings,
    )
    assert isinstance(callback, CallbackRequested)
    assert move_booking(
        kvo_session,
        callback.reference,
        "els@example.org",
        WEDNESDAY_9,
        "c",
        MONDAY,
        settings=kvo_settings,
    ) == NotChangeable("geen_afspraak")
    # A callback request can be withdrawn.
    withdrawn = cancel_booking(
        kvo_session, callback.reference, "els@example.org", "c", MONDAY, settings=kvo_settings
    )
    assert withdrawn == Cancelled(callback.reference, None, None)


@pytest.mark.parametrize("contact", ["", None, "06", "<script>", "x" * 5000])
def test_odd_contact_input_is_just_not_found(
    contact: str | None,
    kvo_session: Session,
    add_facilitator: AddFacilitator,
    kvo_settings: Settings,
) -> None:
    add_facilitator()
    booked = _book(kvo_session, kvo_settings)
    assert (
        verify_booking(kvo_session, booked.reference, contact, "c", MONDAY, settings=kvo_settings)
        == NotFound()
    )


def test_a_move_rolled_back_by_the_caller_leaves_nothing_moved(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    booked = _book(kvo_session, kvo_settings)
    kvo_session.commit()
    outcome = move_booking(
        kvo_session, booked.reference, EMAIL, WEDNESDAY_9, "chat-2", MONDAY, settings=kvo_settings
    )
    assert isinstance(outcome, Moved)
    kvo_session.rollback()  # e.g. the action failed after the move: all of it is undone
    assert kvo_session.scalars(select(Booking.starts_at)).one() == TUESDAY_9
    assert kvo_session.scalars(select(Lead.slot_start)).one() == TUESDAY_9


def test_guessing_from_one_client_is_limited_too(
    kvo_session: Session,
    add_facilitator: AddFacilitator,
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(lockout_client_max_attempts=3)
    add_facilitator()
    booked = _book(kvo_session, settings)
    client = "0123456789abcdef0123456789abcdef"
    for i in range(3):  # other references, other conversations, one client
        outcome = verify_booking(
            kvo_session,
            f"INT-ABCDE{i + 2}",
            EMAIL,
            f"c{i}",
            MONDAY,
            client_key=client,
            settings=settings,
        )
        assert outcome == NotFound()
    locked = verify_booking(
        kvo_session, booked.reference, EMAIL, "c-new", MONDAY, client_key=client, settings=settings
    )
    assert isinstance(locked, LockedOut)
    other_client = verify_booking(
        kvo_session,
        booked.reference,
        EMAIL,
        "c-other",
        MONDAY,
        client_key="f" * 32,
        settings=settings,
    )
    assert isinstance(other_client, BookingFound)
