"""Staff-side lead services: list, detail, export, status changes, erasure, retention."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kvo.availability import free_slots
from kvo.intake import Booked, CallbackRequested, finalize_booking, request_callback
from kvo.intake_drafts import save_fields
from kvo.lead_fields import LeadFields
from kvo.leads import (
    Erased,
    LeadNotFound,
    LeadQuery,
    Reassigned,
    ReassignRefused,
    StatusChanged,
    TransitionRefused,
    change_status,
    erase_lead_personal_data,
    export_leads,
    find_lead_id,
    get_lead,
    list_leads,
    purge_expired,
    reassign_facilitator,
)
from kvo.models import (
    AreaKind,
    Booking,
    ContactArea,
    Facilitator,
    Lead,
    LeadKind,
    LeadStatus,
    MailStatus,
    OutboxMessage,
)
from kvo.settings import Settings
from tests.kvo.intake_support import MONDAY, TUESDAY_9, all_stored_text, intake_fields, local

AddFacilitator = Callable[..., Facilitator]
ZWB, OB = ContactArea.ZEELAND_WEST_BRABANT, ContactArea.OOST_BRABANT
FRIDAY_BEFORE = local(2026, 11, 27, 10)


def _seed(session: Session, add_facilitator: AddFacilitator, settings: Settings) -> dict[str, str]:
    """Two intakes (ZWB, OB) and a callback; returns name -> reference."""
    add_facilitator(ZWB)
    add_facilitator(OB)
    a = finalize_booking(
        session, intake_fields(), TUESDAY_9, "conv-a", "ka", FRIDAY_BEFORE, settings=settings
    )
    b = finalize_booking(
        session,
        intake_fields(
            name="Piet",
            email="piet@example.org",
            phone=None,
            municipality="Eindhoven",
            area_kind="bedrijventerrein",
            organisation='=HYPERLINK("http://evil")',
        ),
        TUESDAY_9,
        "conv-b",
        "kb",
        FRIDAY_BEFORE + timedelta(minutes=5),
        settings=settings,
    )
    c = request_callback(
        session,
        LeadFields(name="Els", phone="0623456789", consent_at=MONDAY),
        "conv-c",
        "kc",
        MONDAY,
        settings=settings,
    )
    assert isinstance(a, Booked) and isinstance(b, Booked) and isinstance(c, CallbackRequested)
    return {"a": a.reference, "b": b.reference, "c": c.reference}


def test_list_filters_sorting_and_pages(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    refs = _seed(kvo_session, add_facilitator, kvo_settings)
    page = list_leads(kvo_session, settings=kvo_settings)
    assert [row.reference for row in page.items] == [
        refs["c"],
        refs["b"],
        refs["a"],
    ]  # newest first
    assert page.total == 3
    row = page.items[-1]
    assert (row.kind, row.status, row.contact_area, row.municipality) == (
        "intake", "gepland", "Zeeland en West-Brabant", "Breda",
    )  # fmt: skip
    assert row.facilitator_name is not None and row.erased is False and row.mail_failed is False

    def refs_for(**kwargs: object) -> list[str]:
        result = list_leads(kvo_session, LeadQuery(**kwargs), settings=kvo_settings)  # type: ignore[arg-type]
        return [r.reference for r in result.items]

    assert refs_for(kinds=(LeadKind.CALLBACK,)) == [refs["c"]]
    assert refs_for(statuses=(LeadStatus.GEPLAND,)) == [refs["b"], refs["a"]]
    assert refs_for(contact_areas=(OB,)) == [refs["b"]]
    assert refs_for(area_kinds=(AreaKind.BEDRIJVENTERREIN,)) == [refs["b"]]
    assert refs_for(created_from=date(2026, 11, 30)) == [refs["c"]]
    assert refs_for(created_to=date(2026, 11, 27)) == [refs["b"], refs["a"]]
    assert refs_for(sort="created_at", descending=False) == [refs["a"], refs["b"], refs["c"]]
    assert refs_for(sort="slot_start", descending=False)[-1] == refs["c"]  # no slot: last
    second = list_leads(kvo_session, LeadQuery(page=2, page_size=2), settings=kvo_settings)
    assert (second.total, [r.reference for r in second.items]) == (3, [refs["a"]])


def test_detail_has_everything_staff_need(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    refs = _seed(kvo_session, add_facilitator, kvo_settings)
    lead_id = find_lead_id(kvo_session, refs["a"].lower())
    assert lead_id is not None and find_lead_id(kvo_session, str(lead_id)) == lead_id
    detail = get_lead(kvo_session, lead_id)
    assert detail is not None
    assert (detail.email, detail.phone, detail.phone_display) == (
        "jan.de.vries@example.org", "+31612345678", "06 12345678",
    )  # fmt: skip
    assert detail.conversation_id == "conv-a"
    assert detail.allowed_statuses == ("afgerond", "afgewezen", "geannuleerd")
    assert [e.event for e in detail.events] == ["aangemaakt"]
    assert {d.kind for d in detail.deliveries} >= {"staff_new_booking", "visitor_booking"}
    assert get_lead(kvo_session, 999_999) is None


def test_failed_mail_is_flagged(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    refs = _seed(kvo_session, add_facilitator, kvo_settings)
    lead_id = find_lead_id(kvo_session, refs["c"])
    kvo_session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.lead_id == lead_id)
        .values(status=MailStatus.FAILED)
    )
    flagged = [
        r.reference for r in list_leads(kvo_session, settings=kvo_settings).items if r.mail_failed
    ]
    assert flagged == [refs["c"]]


def test_export_is_csv_without_formula_injection(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    refs = _seed(kvo_session, add_facilitator, kvo_settings)
    rows = list(csv.DictReader(io.StringIO(export_leads(kvo_session, settings=kvo_settings))))
    assert [row["referentie"] for row in rows] == [refs["c"], refs["b"], refs["a"]]
    piet = rows[1]
    assert piet["organisatie"].startswith("'=HYPERLINK")
    assert piet["afspraak_begin"] == "2026-12-01 09:00"  # local time
    assert rows[0]["telefoon"] == "06 23456789"
    only_callbacks = export_leads(
        kvo_session, LeadQuery(kinds=(LeadKind.CALLBACK,), page_size=1), settings=kvo_settings
    )
    assert len(only_callbacks.strip().splitlines()) == 2  # header + one row, paging ignored


def test_status_changes_follow_the_life_cycle(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    refs = _seed(kvo_session, add_facilitator, kvo_settings)
    callback_id = find_lead_id(kvo_session, refs["c"])
    assert callback_id is not None
    assert change_status(
        kvo_session, callback_id, LeadStatus.IN_BEHANDELING, "medewerker", MONDAY
    ) == StatusChanged(callback_id, "nieuw", "in_behandeling")
    refused = change_status(kvo_session, callback_id, LeadStatus.NIEUW, "medewerker", MONDAY)
    assert refused == TransitionRefused(
        "in_behandeling", "nieuw", ("gepland", "afgerond", "afgewezen", "geannuleerd")
    )
    assert change_status(kvo_session, 999_999, LeadStatus.AFGEROND, "x", MONDAY) == LeadNotFound()
    events = get_lead(kvo_session, callback_id).events  # type: ignore[union-attr]
    assert [(e.event, e.from_status, e.to_status, e.actor) for e in events][-1] == (
        "status", "nieuw", "in_behandeling", "medewerker",
    )  # fmt: skip


def test_staff_rejecting_a_planned_intake_frees_the_slot(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    refs = _seed(kvo_session, add_facilitator, kvo_settings)
    lead_id = find_lead_id(kvo_session, refs["a"])
    assert lead_id is not None
    outcome = change_status(kvo_session, lead_id, LeadStatus.AFGEWEZEN, "medewerker", MONDAY)
    assert outcome == StatusChanged(lead_id, "gepland", "afgewezen")
    assert kvo_session.scalar(select(Booking.id).where(Booking.lead_id == lead_id)) is None
    assert (
        free_slots(kvo_session, ZWB, MONDAY, count=1, settings=kvo_settings)[0].starts_at
        == TUESDAY_9
    )
    kinds = {
        k.value
        for k in kvo_session.scalars(
            select(OutboxMessage.kind).where(
                OutboxMessage.lead_id == lead_id, OutboxMessage.status == MailStatus.PENDING
            )
        )
    }
    assert {"visitor_cancelled", "facilitator_cancelled", "staff_cancelled"} <= kinds


def test_erasure_leaves_an_anonymous_record(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    refs = _seed(kvo_session, add_facilitator, kvo_settings)
    lead_id = find_lead_id(kvo_session, refs["a"])
    assert lead_id is not None
    save_fields(kvo_session, "conv-a", {"name": "Jan de Vries"}, MONDAY)  # a later draft
    outcome = erase_lead_personal_data(kvo_session, lead_id, "beheerder", MONDAY)
    assert outcome == Erased(lead_id, "conv-a")
    kvo_session.commit()
    lead = kvo_session.get(Lead, lead_id)
    assert lead is not None and lead.erased_at == MONDAY
    assert (lead.name, lead.email, lead.phone, lead.organisation, lead.description) == (None,) * 5
    assert (lead.conversation_id, lead.conversation_key, lead.client_key) == (None, None, None)
    assert (lead.municipality, lead.contact_area, lead.kind) == ("Breda", ZWB, LeadKind.INTAKE)
    # The future intake was cancelled: slot free, visitor mails dropped.
    assert lead.status is LeadStatus.GEANNULEERD and lead.booking is None
    visitor_pending = kvo_session.scalars(
        select(OutboxMessage.kind).where(
            OutboxMessage.lead_id == lead_id, OutboxMessage.status == MailStatus.PENDING
        )
    ).all()
    assert all(k.recipient != "visitor" for k in visitor_pending)
    stored = all_stored_text(kvo_session)
    for value in ("Jan de Vries", "jan.de.vries@example.org", "+31612345678", "Bakkerij De Vries"):
        assert value not in stored
    assert erase_lead_personal_data(kvo_session, lead_id, "beheerder", MONDAY) == Erased(
        lead_id, None, already=True
    )


def test_purge_applies_the_retention_period(
    kvo_session: Session, add_facilitator: AddFacilitator, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(lead_retention_months=12)
    refs = _seed(kvo_session, add_facilitator, settings)
    save_fields(kvo_session, "old-draft", {"name": "Oud"}, MONDAY, settings=settings)
    # Eleven months later only the expired draft goes; thirteen months later every lead is due.
    early = purge_expired(kvo_session, MONDAY + timedelta(days=335), settings=settings)
    assert (early.erased, early.drafts, early.conversation_ids) == (0, 1, ())
    result = purge_expired(kvo_session, MONDAY + timedelta(days=400), settings=settings)
    assert result.erased == 3 and result.mails > 0
    assert sorted(result.conversation_ids) == ["conv-a", "conv-b", "conv-c"]
    assert all(
        lead.name is None and lead.erased_at is not None
        for lead in kvo_session.scalars(select(Lead))
    )
    assert {lead.reference for lead in kvo_session.scalars(select(Lead))} == set(refs.values())


def test_erasing_a_finished_lead_keeps_its_status(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    refs = _seed(kvo_session, add_facilitator, kvo_settings)
    lead_id = find_lead_id(kvo_session, refs["a"])
    assert lead_id is not None
    change_status(kvo_session, lead_id, LeadStatus.AFGEROND, "medewerker", MONDAY)
    assert isinstance(erase_lead_personal_data(kvo_session, lead_id, "beheerder", MONDAY), Erased)
    lead = kvo_session.get(Lead, lead_id)
    assert lead is not None and lead.status is LeadStatus.AFGEROND and lead.name is None


def test_reassigning_a_facilitator_rechecks_the_slot(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    refs = _seed(kvo_session, add_facilitator, kvo_settings)
    lead_id = find_lead_id(kvo_session, refs["a"])
    assert lead_id is not None
    busy = add_facilitator(ZWB)
    other_area = add_facilitator(OB)
    free = add_facilitator(ZWB, weekdays=(3,))  # Thursdays only: staff may assign anyway
    blocker = finalize_booking(
        kvo_session,
        intake_fields(email="z@example.org", phone=None),
        TUESDAY_9,
        "conv-z",
        "kz",
        FRIDAY_BEFORE,
        settings=kvo_settings,
    )
    assert isinstance(blocker, Booked)
    assert (
        kvo_session.scalar(
            select(Booking.facilitator_id)
            .where(Booking.starts_at == TUESDAY_9, Booking.lead_id != lead_id)
            .where(Booking.facilitator_id == busy.id)
        )
        == busy.id
    )
    assert reassign_facilitator(kvo_session, lead_id, busy.id, "medewerker", MONDAY) == (
        ReassignRefused("bezet")
    )
    assert reassign_facilitator(kvo_session, lead_id, other_area.id, "medewerker", MONDAY) == (
        ReassignRefused("ander_contactgebied")
    )
    assert reassign_facilitator(kvo_session, lead_id, 999_999, "medewerker", MONDAY) == (
        ReassignRefused("onbekende_begeleider")
    )
    assert reassign_facilitator(kvo_session, lead_id, free.id, "medewerker", MONDAY) == (
        Reassigned(lead_id, free.id)
    )
    lead = kvo_session.get(Lead, lead_id)
    assert lead is not None and lead.facilitator_id == free.id and lead.booking is not None
    assert lead.booking.facilitator_id == free.id and lead.ics_sequence == 1
    kinds = [
        (k.value, f)
        for k, f in kvo_session.execute(
            select(OutboxMessage.kind, OutboxMessage.facilitator_id)
            .where(OutboxMessage.lead_id == lead_id)
            .order_by(OutboxMessage.id)
        )
    ][-2:]
    assert kinds[1] == ("facilitator_booking", free.id)
    assert kinds[0][0] == "facilitator_cancelled" and kinds[0][1] != free.id
