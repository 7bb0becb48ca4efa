"""Notifications end to end: outbox -> worker -> a real SMTP server (aiosmtpd) -> .eml files."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from kvo.intake import (
    Booked,
    CallbackRequested,
    cancel_booking,
    finalize_booking,
    move_booking,
    request_callback,
)
from kvo.lead_fields import LeadFields
from kvo.leads import erase_lead_personal_data, find_lead_id, list_leads
from kvo.mail import DeliveryReport, backoff, deliver_all_due, mail_overview
from kvo.models import Facilitator, MailStatus, OutboxMessage
from kvo.settings import Settings
from tests.kvo.intake_support import MONDAY, TUESDAY_9, intake_fields, local
from tests.kvo.mail_support import SmtpSink

AddFacilitator = Callable[..., Facilitator]
FRIDAY_BEFORE = local(2026, 11, 27, 10)
STAFF_ZWB = "intake-zwb@pvo.example"
VISITOR = "jan.de.vries@example.org"


@pytest.fixture
def mail_settings(make_settings: Callable[..., Settings], smtp_sink: SmtpSink) -> Settings:
    return make_settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.port,
        smtp_timeout_seconds=5,
        staff_email_zwb=STAFF_ZWB,
        staff_email_ob="intake-ob@pvo.example",
        mail_from="PVO-assistent <noreply@pvo.example>",
        intake_mode="video",
        intake_preparation="Zet op papier welke problemen u in het gebied ziet.",
        mail_retry_base_seconds=60,
        mail_max_attempts=3,
    )


def _book(session: Session, settings: Settings, now=FRIDAY_BEFORE) -> Booked:  # type: ignore[no-untyped-def]
    outcome = finalize_booking(
        session, intake_fields(), TUESDAY_9, "conv-mail", "k", now, settings=settings
    )
    assert isinstance(outcome, Booked)
    session.commit()
    return outcome


def _by_recipient(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    return {str(m["To"]): m for m in messages}


def _invite(message: EmailMessage) -> Calendar:
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, message["Subject"]
    return Calendar.from_ical(parts[0].get_content())


def test_a_booking_mails_staff_visitor_and_facilitator_with_a_valid_invitation(
    kvo_session: Session,
    kvo_engine: Engine,
    add_facilitator: AddFacilitator,
    mail_settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    facilitator = add_facilitator()
    booked = _book(kvo_session, mail_settings)
    report = deliver_all_due(kvo_engine, FRIDAY_BEFORE, settings=mail_settings)
    assert report == DeliveryReport(sent=3)  # the reminders wait for Monday
    mails = _by_recipient(smtp_sink.messages())
    assert set(mails) == {STAFF_ZWB, VISITOR, facilitator.email}

    staff = mails[STAFF_ZWB]
    assert staff["Subject"] == f"Nieuwe intake {booked.reference}: Binnenstad, Breda"
    body = staff.get_body().get_content()  # type: ignore[union-attr]
    for expected in ("Jan de Vries", VISITOR, "06 12345678", "Bakkerij De Vries", "ondernemer",
                     "dinsdag 1 december 2026 van 09:00 tot 10:00 uur", "Zeeland en West-Brabant"):  # fmt: skip
        assert expected in body

    visitor = mails[VISITOR]
    assert visitor["From"] == "PVO-assistent <noreply@pvo.example>"
    text = visitor.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Beste Jan de Vries,")
    assert "Hoe: via een videogesprek" in text
    assert "Ter voorbereiding: Zet op papier" in text
    assert booked.reference in text

    # The visitor's invitation names only the visitor (PVO organises); the facilitator's
    # names both, so the facilitator can reach the visitor.
    for mail, expected_attendees in (
        (visitor, {VISITOR}),
        (mails[facilitator.email], {VISITOR, facilitator.email}),
    ):
        calendar = _invite(mail)
        assert calendar["METHOD"] == "REQUEST"
        event = calendar.walk("VEVENT")[0]
        assert str(event["UID"]) == f"{booked.reference.lower()}@pvo.example"
        assert event["SEQUENCE"] == 0
        start = event.decoded("DTSTART")
        assert start == TUESDAY_9 and str(start.tzinfo) == "Europe/Amsterdam"
        assert start.hour == 9
        assert event.decoded("DTEND") - start == timedelta(hours=1)
        raw = event["ATTENDEE"]
        attendees = {
            str(a).removeprefix("mailto:") for a in (raw if isinstance(raw, list) else [raw])
        }
        assert attendees == expected_attendees
        assert calendar.walk("VTIMEZONE")  # the time zone travels with the file
    assert "leads show" not in mails[facilitator.email].get_body().get_content()  # type: ignore[union-attr]


def test_the_reminder_goes_out_the_working_day_before(
    kvo_session: Session,
    kvo_engine: Engine,
    add_facilitator: AddFacilitator,
    mail_settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    facilitator = add_facilitator()
    _book(kvo_session, mail_settings)
    deliver_all_due(kvo_engine, FRIDAY_BEFORE, settings=mail_settings)
    sunday = local(2026, 11, 29, 12)
    assert deliver_all_due(kvo_engine, sunday, settings=mail_settings) == DeliveryReport()
    monday_morning = local(2026, 11, 30, 9)
    assert deliver_all_due(kvo_engine, monday_morning, settings=mail_settings).sent == 2
    reminders = [m for m in smtp_sink.messages() if "Herinnering" in str(m["Subject"])]
    assert {str(m["To"]) for m in reminders} == {VISITOR, facilitator.email}
    assert all("di 1 dec 09:00" in str(m["Subject"]) for m in reminders)


def test_move_and_cancel_update_everyone_calendar(
    kvo_session: Session,
    kvo_engine: Engine,
    add_facilitator: AddFacilitator,
    mail_settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    facilitator = add_facilitator()
    booked = _book(kvo_session, mail_settings)
    deliver_all_due(kvo_engine, FRIDAY_BEFORE, settings=mail_settings)
    wednesday = local(2026, 12, 2, 9)
    moved = move_booking(
        kvo_session,
        booked.reference,
        VISITOR,
        wednesday,
        "c2",
        FRIDAY_BEFORE,
        settings=mail_settings,
    )
    kvo_session.commit()
    assert deliver_all_due(kvo_engine, FRIDAY_BEFORE, settings=mail_settings).sent == 3
    new = smtp_sink.messages()[3:]
    assert {str(m["To"]) for m in new} == {STAFF_ZWB, VISITOR, facilitator.email}
    visitor_move = _by_recipient(new)[VISITOR]
    assert "verplaatst" in str(visitor_move["Subject"])
    event = _invite(visitor_move).walk("VEVENT")[0]
    assert event["SEQUENCE"] == 1 and event.decoded("DTSTART") == wednesday
    assert "Oude afspraak: dinsdag 1 december 2026" in visitor_move.get_body().get_content()  # type: ignore[union-attr]
    assert moved is not None

    cancel_booking(
        kvo_session, booked.reference, VISITOR, "c3", FRIDAY_BEFORE, settings=mail_settings
    )
    kvo_session.commit()
    report = deliver_all_due(kvo_engine, FRIDAY_BEFORE + timedelta(hours=1), settings=mail_settings)
    assert report.sent == 3
    cancels = _by_recipient(smtp_sink.messages()[6:])
    assert set(cancels) == {STAFF_ZWB, VISITOR, facilitator.email}
    for who in (VISITOR, facilitator.email):
        calendar = _invite(cancels[who])
        assert calendar["METHOD"] == "CANCEL"
        event = calendar.walk("VEVENT")[0]
        assert event["SEQUENCE"] == 2 and str(event["STATUS"]) == "CANCELLED"
        assert str(event["UID"]) == f"{booked.reference.lower()}@pvo.example"
    # The reminders of the cancelled intake never go out.
    assert (
        deliver_all_due(kvo_engine, local(2026, 12, 1, 9), settings=mail_settings)
        == DeliveryReport()
    )


def test_smtp_down_keeps_the_lead_and_sends_after_recovery(
    kvo_session: Session,
    kvo_engine: Engine,
    add_facilitator: AddFacilitator,
    mail_settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    add_facilitator()
    smtp_sink.stop()
    booked = _book(kvo_session, mail_settings)  # booking never waits for mail
    down = deliver_all_due(kvo_engine, FRIDAY_BEFORE, settings=mail_settings)
    assert down == DeliveryReport(retried=3)
    rows = kvo_session.execute(
        select(OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.last_error).where(
            OutboxMessage.next_attempt_at <= FRIDAY_BEFORE + timedelta(minutes=5)
        )
    ).all()
    assert rows == [(MailStatus.PENDING, 1, "ConnectionRefusedError")] * 3
    assert find_lead_id(kvo_session, booked.reference) is not None

    smtp_sink.start()
    # Not yet: the backoff holds the next attempt back.
    assert deliver_all_due(kvo_engine, FRIDAY_BEFORE, settings=mail_settings) == DeliveryReport()
    later = FRIDAY_BEFORE + backoff(1, mail_settings)
    assert deliver_all_due(kvo_engine, later, settings=mail_settings) == DeliveryReport(sent=3)
    assert len(smtp_sink.messages()) == 3


def test_retries_end_in_failed_and_the_lead_is_flagged(
    kvo_session: Session,
    kvo_engine: Engine,
    add_facilitator: AddFacilitator,
    mail_settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    add_facilitator()
    smtp_sink.stop()
    booked = _book(kvo_session, mail_settings)
    now = FRIDAY_BEFORE
    for attempt in range(1, mail_settings.mail_max_attempts + 1):
        report = deliver_all_due(kvo_engine, now, settings=mail_settings)
        expected = "failed" if attempt == mail_settings.mail_max_attempts else "retried"
        assert getattr(report, expected) == 3
        now += backoff(attempt, mail_settings)
    overview = mail_overview(kvo_session)
    assert overview.counts["failed"] == 3
    assert {row.reference for row in overview.failed} == {booked.reference}
    flagged = [
        row for row in list_leads(kvo_session, settings=mail_settings).items if row.mail_failed
    ]
    assert [row.reference for row in flagged] == [booked.reference]


def test_missing_staff_address_fails_at_once(
    kvo_session: Session,
    kvo_engine: Engine,
    make_settings: Callable[..., Settings],
    smtp_sink: SmtpSink,
) -> None:
    settings = make_settings(smtp_port=smtp_sink.port, staff_email_zwb="", staff_email_ob="")
    outcome = request_callback(
        kvo_session,
        LeadFields(name="Els", email="els@example.org", consent_at=MONDAY),
        "cb",
        "k",
        MONDAY,
        settings=settings,
    )
    assert isinstance(outcome, CallbackRequested)
    kvo_session.commit()
    report = deliver_all_due(kvo_engine, MONDAY, settings=settings)
    assert report == DeliveryReport(sent=1, failed=1)  # the visitor's confirmation still goes
    failed = mail_overview(kvo_session).failed
    assert [(row.kind, row.last_error) for row in failed] == [
        ("staff_new_callback", "MissingRecipient")
    ]


def test_callback_without_municipality_goes_to_both_areas(
    kvo_session: Session, kvo_engine: Engine, mail_settings: Settings, smtp_sink: SmtpSink
) -> None:
    request_callback(
        kvo_session,
        LeadFields(name="Els", phone="0612345678", description="Bel mij", consent_at=MONDAY),
        "cb",
        "k",
        MONDAY,
        settings=mail_settings,
    )
    kvo_session.commit()
    assert deliver_all_due(kvo_engine, MONDAY, settings=mail_settings) == DeliveryReport(sent=1)
    (staff,) = smtp_sink.messages()
    assert str(staff["To"]) == f"{STAFF_ZWB}, intake-ob@pvo.example"
    assert "06 12345678" in staff.get_body().get_content()  # type: ignore[union-attr]


def test_erased_leads_get_no_visitor_mail_and_logs_hold_no_personal_data(
    kvo_session: Session,
    kvo_engine: Engine,
    add_facilitator: AddFacilitator,
    mail_settings: Settings,
    smtp_sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    add_facilitator()
    booked = _book(kvo_session, mail_settings)
    lead_id = find_lead_id(kvo_session, booked.reference)
    assert lead_id is not None
    erase_lead_personal_data(kvo_session, lead_id, "beheerder", FRIDAY_BEFORE)
    kvo_session.commit()
    with caplog.at_level(logging.DEBUG):
        report = deliver_all_due(kvo_engine, FRIDAY_BEFORE, settings=mail_settings)
    recipients = [str(m["To"]) for m in smtp_sink.messages()]
    assert VISITOR not in recipients
    assert report.sent >= 2  # staff and facilitator hear of the cancellation
    for mail in smtp_sink.messages():
        assert "Jan de Vries" not in mail.as_string()
    logged = caplog.text
    for secret in ("Jan de Vries", VISITOR, "0612345678", "+31612345678", "Bakkerij"):
        assert secret not in logged
    assert "mail.sent" in logged
