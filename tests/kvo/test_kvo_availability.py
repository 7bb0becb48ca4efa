"""Free intake slots: weekly rules, holidays, blocked periods, bookings, time zones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kvo.availability import (
    Slot,
    WeeklyRule,
    add_blocked_period,
    earliest_bookable_day,
    free_facilitators_at,
    free_slots,
    is_working_day,
    next_working_day,
    parse_slot_token,
    previous_working_day,
    set_weekly_rules,
    start_of_next_week,
)
from kvo.intake import Booked, finalize_booking, generate_reference
from kvo.models import Booking, ContactArea, Facilitator, Lead, LeadKind, LeadStatus
from kvo.settings import Settings
from tests.kvo.intake_support import intake_fields

AddFacilitator = Callable[..., Facilitator]
AMS = ZoneInfo("Europe/Amsterdam")
ZWB, OB = ContactArea.ZEELAND_WEST_BRABANT, ContactArea.OOST_BRABANT


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An Amsterdam wall-clock time as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=AMS).astimezone(UTC)


# Monday 30 November 2026, 10:00 in Amsterdam.
MONDAY = local(2026, 11, 30, 10)


def _book(session: Session, facilitator: Facilitator, start: datetime, minutes: int = 60) -> None:
    lead = Lead(
        reference=generate_reference(),
        kind=LeadKind.INTAKE,
        status=LeadStatus.GEPLAND,
        consent_at=start,
        slot_start=start,
        slot_end=start + timedelta(minutes=minutes),
    )
    lead.booking = Booking(
        facilitator_id=facilitator.id, starts_at=start, ends_at=start + timedelta(minutes=minutes)
    )
    session.add(lead)
    session.flush()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 30), True),  # Monday
        (date(2026, 12, 5), False),  # Saturday
        (date(2026, 12, 25), False),  # Eerste kerstdag
        (date(2026, 4, 27), False),  # Koningsdag (a Monday)
        (date(2026, 5, 14), False),  # Hemelvaartsdag
        (date(2026, 5, 25), False),  # Tweede pinksterdag
        (date(2025, 5, 5), False),  # Bevrijdingsdag in a lustrum year
        (date(2026, 5, 5), True),  # ... and not a day off in other years
    ],
)
def test_working_days(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("now", "earliest"),
    [
        (local(2026, 11, 30, 10), date(2026, 12, 1)),  # Monday -> Tuesday
        (local(2026, 11, 30, 23, 30), date(2026, 12, 1)),  # late Monday, still Monday here
        (local(2026, 12, 1, 0, 30), date(2026, 12, 2)),  # Tuesday 00:30 here (Monday in UTC)
        (local(2026, 12, 4, 16), date(2026, 12, 7)),  # Friday afternoon -> Monday
        (local(2026, 12, 5, 12), date(2026, 12, 7)),  # Saturday -> Monday
        (local(2026, 5, 13, 9), date(2026, 5, 15)),  # before Ascension Day -> Friday
        (local(2026, 12, 24, 9), date(2026, 12, 28)),  # Christmas Eve -> Monday 28th
    ],
)
def test_earliest_bookable_day(now: datetime, earliest: date, kvo_settings: Settings) -> None:
    assert earliest_bookable_day(now, kvo_settings) == earliest


def test_day_helpers() -> None:
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 28)
    assert previous_working_day(date(2026, 12, 28)) == date(2026, 12, 24)
    assert start_of_next_week(date(2026, 12, 2)) == date(2026, 12, 7)
    assert start_of_next_week(date(2026, 12, 7)) == date(2026, 12, 14)


def test_earliest_slots_start_on_the_next_working_day(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator()
    slots = free_slots(kvo_session, ZWB, MONDAY, settings=kvo_settings)
    # Winter time: 09:00 in Amsterdam is 08:00 UTC.
    assert slots == (
        Slot(local(2026, 12, 1, 9), local(2026, 12, 1, 10)),
        Slot(local(2026, 12, 1, 10), local(2026, 12, 1, 11)),
        Slot(local(2026, 12, 1, 11), local(2026, 12, 1, 12)),
    )
    assert slots[0].starts_at == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert free_slots(kvo_session, OB, MONDAY, settings=kvo_settings) == ()


def test_holidays_are_skipped(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator(start=time(9), end=time(10))
    slots = free_slots(kvo_session, ZWB, local(2026, 12, 23, 12), count=3, settings=kvo_settings)
    assert [s.starts_at.astimezone(AMS).date() for s in slots] == [
        date(2026, 12, 24),
        date(2026, 12, 28),  # 25th and 26th are Christmas, then the weekend
        date(2026, 12, 29),
    ]


def test_blocked_periods_and_bookings_are_not_offered(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    only = add_facilitator(start=time(9), end=time(11))
    add_blocked_period(kvo_session, only.id, local(2026, 12, 1), local(2026, 12, 2), "verlof")
    _book(kvo_session, only, local(2026, 12, 2, 9))
    slots = free_slots(kvo_session, ZWB, MONDAY, count=2, settings=kvo_settings)
    assert [s.starts_at for s in slots] == [local(2026, 12, 2, 10), local(2026, 12, 3, 9)]


def test_a_slot_stays_free_while_another_facilitator_has_it(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    first, second = add_facilitator(end=time(10)), add_facilitator(end=time(10))
    tuesday_nine = local(2026, 12, 1, 9)
    _book(kvo_session, first, tuesday_nine)
    assert free_slots(kvo_session, ZWB, MONDAY, count=1, settings=kvo_settings)[0].starts_at == (
        tuesday_nine
    )
    assert [
        f
        for f, _ in free_facilitators_at(
            kvo_session, ZWB, tuesday_nine, MONDAY, settings=kvo_settings
        )
    ] == [second.id]
    _book(kvo_session, second, tuesday_nine)
    assert free_slots(kvo_session, ZWB, MONDAY, count=1, settings=kvo_settings)[0].starts_at == (
        local(2026, 12, 2, 9)
    )


def test_an_overlapping_longer_booking_blocks_a_slot(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    facilitator = add_facilitator(weekdays=(1,), end=time(12))
    _book(kvo_session, facilitator, local(2026, 12, 1, 9, 30), minutes=60)  # 09:30-10:30
    slots = free_slots(kvo_session, ZWB, MONDAY, count=1, settings=kvo_settings)
    assert slots[0].starts_at == local(2026, 12, 1, 11)


@pytest.mark.parametrize(
    ("now", "first_start_utc"),
    [
        # Spring forward on Sunday 29 March 2026: Friday is CET (UTC+1), Monday CEST (UTC+2).
        (local(2026, 3, 26, 12), datetime(2026, 3, 27, 8, tzinfo=UTC)),
        (local(2026, 3, 27, 12), datetime(2026, 3, 30, 7, tzinfo=UTC)),
        # Fall back on Sunday 25 October 2026.
        (local(2026, 10, 22, 12), datetime(2026, 10, 23, 7, tzinfo=UTC)),
        (local(2026, 10, 23, 12), datetime(2026, 10, 26, 8, tzinfo=UTC)),
    ],
)
def test_wall_clock_times_across_daylight_saving(
    now: datetime,
    first_start_utc: datetime,
    kvo_session: Session,
    add_facilitator: AddFacilitator,
    kvo_settings: Settings,
) -> None:
    add_facilitator()
    slot = free_slots(kvo_session, ZWB, now, count=1, settings=kvo_settings)[0]
    assert slot.starts_at == first_start_utc
    assert slot.starts_at.astimezone(AMS).time() == time(9)
    assert slot.ends_at - slot.starts_at == timedelta(hours=1)


def test_next_week_and_slot_length(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    add_facilitator(weekdays=(2,), start=time(13), end=time(16), slot_minutes=90)
    slots = free_slots(
        kvo_session,
        ZWB,
        MONDAY,
        start_on=start_of_next_week(date(2026, 12, 2)),
        settings=kvo_settings,
    )
    assert slots == (
        Slot(local(2026, 12, 9, 13), local(2026, 12, 9, 14, 30)),
        Slot(local(2026, 12, 9, 14, 30), local(2026, 12, 9, 16)),
        Slot(local(2026, 12, 16, 13), local(2026, 12, 16, 14, 30)),
    )


def test_inactive_facilitators_and_the_horizon(
    kvo_session: Session,
    add_facilitator: AddFacilitator,
    make_settings: Callable[..., Settings],
) -> None:
    add_facilitator(active=False)
    settings = make_settings(booking_horizon_days=30)
    assert free_slots(kvo_session, ZWB, MONDAY, settings=settings) == ()
    facilitator = add_facilitator()
    add_blocked_period(kvo_session, facilitator.id, local(2026, 12, 1), local(2027, 2, 1))
    assert free_slots(kvo_session, ZWB, MONDAY, settings=settings) == ()
    later = free_slots(kvo_session, ZWB, MONDAY, settings=make_settings(booking_horizon_days=90))
    assert later[0].starts_at == local(2027, 2, 1, 9)


def test_free_facilitators_at_refuses_what_is_no_slot(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    facilitator = add_facilitator()
    at = free_facilitators_at  # short alias for the table below
    assert at(kvo_session, ZWB, local(2026, 12, 1, 9), MONDAY, settings=kvo_settings) == [
        (facilitator.id, local(2026, 12, 1, 10))
    ]
    for start in (
        local(2026, 12, 1, 9, 30),  # not on the grid
        local(2026, 12, 1, 13),  # outside the rule
        local(2026, 11, 30, 11),  # today: too soon
        local(2026, 12, 25, 9),  # Christmas
        local(2026, 12, 5, 9),  # Saturday
    ):
        assert at(kvo_session, ZWB, start, MONDAY, settings=kvo_settings) == []
    assert at(kvo_session, OB, local(2026, 12, 1, 9), MONDAY, settings=kvo_settings) == []


def test_set_weekly_rules_replaces_them(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    facilitator = add_facilitator()
    set_weekly_rules(kvo_session, facilitator.id, [WeeklyRule(3, time(14), time(15))])
    kvo_session.expire_all()
    slots = free_slots(kvo_session, ZWB, MONDAY, count=2, settings=kvo_settings)
    assert [s.starts_at for s in slots] == [local(2026, 12, 3, 14), local(2026, 12, 10, 14)]


def test_slot_tokens_round_trip() -> None:
    slot = Slot(local(2026, 12, 1, 9), local(2026, 12, 1, 10))
    assert slot.token == "2026-12-01T08:00Z"
    assert parse_slot_token(f'/choose_slot{{"slot": "{slot.token}"}}') == slot.starts_at
    assert parse_slot_token("morgen om negen") is None
    assert parse_slot_token("2026-13-01T08:00Z") is None


def _book_aligned(session: Session, start: datetime, settings: Settings, index: int) -> None:
    """A booking made by the booking service (so under the current rules)."""
    outcome = finalize_booking(
        session,
        intake_fields(email=f"b{index}@example.org", phone=None),
        start,
        f"conv-{index}",
        None,
        MONDAY,
        settings=settings,
    )
    assert isinstance(outcome, Booked), outcome


def test_fully_booked_days_are_skipped_without_missing_a_slot(
    kvo_session: Session,
    add_facilitator: AddFacilitator,
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(bookings_per_email_per_day=1000, booking_horizon_days=60)
    add_facilitator(end=time(11))  # two slots a day
    slots = free_slots(kvo_session, ZWB, MONDAY, count=40, settings=settings)
    booked = [s for s in slots if s.starts_at < local(2026, 12, 15)]  # the first 10 working days
    for index, slot in enumerate(booked):
        _book_aligned(kvo_session, slot.starts_at, settings, index)
    # Also one free slot in between, by cancelling nothing but leaving the 11th day half booked.
    _book_aligned(kvo_session, local(2026, 12, 15, 9), settings, 99)
    assert free_slots(kvo_session, ZWB, MONDAY, count=3, settings=settings) == (
        Slot(local(2026, 12, 15, 10), local(2026, 12, 15, 11)),
        Slot(local(2026, 12, 16, 9), local(2026, 12, 16, 10)),
        Slot(local(2026, 12, 16, 10), local(2026, 12, 16, 11)),
    )


def test_bookings_under_old_rules_never_hide_a_free_slot(
    kvo_session: Session,
    add_facilitator: AddFacilitator,
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(bookings_per_email_per_day=1000)
    facilitator = add_facilitator(weekdays=(1,), start=time(13), end=time(17))  # Tuesdays
    for index, hour in enumerate((13, 14, 15, 16)):
        _book_aligned(kvo_session, local(2026, 12, 1, hour), settings, index)
    # Four bookings that afternoon, and now only three morning slots: the day is not full.
    set_weekly_rules(kvo_session, facilitator.id, [WeeklyRule(1, time(9), time(12))])
    slots = free_slots(kvo_session, ZWB, MONDAY, count=3, settings=settings)
    assert [s.starts_at for s in slots] == [
        local(2026, 12, 1, 9),
        local(2026, 12, 1, 10),
        local(2026, 12, 1, 11),
    ]


def test_changing_rules_through_the_orm_marks_them_changed(
    kvo_session: Session, add_facilitator: AddFacilitator
) -> None:
    facilitator = add_facilitator(weekdays=(1,))
    kvo_session.refresh(facilitator)
    before = facilitator.rules_version
    facilitator.availability_rules[0].end_time = time(11)
    kvo_session.flush()
    kvo_session.refresh(facilitator)
    assert facilitator.rules_version > before


def _claim(session: Session, facilitator: Facilitator, start: datetime) -> None:
    """A booking as the booking service leaves it: under the facilitator's current rules."""
    session.refresh(facilitator)
    _book(session, facilitator, start)
    booking = session.scalars(
        select(Booking).where(Booking.facilitator_id == facilitator.id, Booking.starts_at == start)
    ).one()
    booking.rules_version = facilitator.rules_version
    session.flush()


def test_a_day_counts_as_full_only_when_every_facilitator_is(
    kvo_session: Session, add_facilitator: AddFacilitator, kvo_settings: Settings
) -> None:
    a, b = add_facilitator(end=time(11)), add_facilitator(end=time(11))  # two slots a day each
    days, day = [], date(2026, 11, 30)
    while len(days) < 10:
        day = next_working_day(day)
        days.append(day)  # 1 to 14 December
    for d in days:  # A: fully booked for two weeks
        for hour in (9, 10):
            _claim(kvo_session, a, local(d.year, d.month, d.day, hour))
    for d in days[:6]:  # B: fully booked up to Tuesday 8 December
        for hour in (9, 10):
            _claim(kvo_session, b, local(d.year, d.month, d.day, hour))
    # 7 and 8 December are counted as full and skipped; on the 9th A is full but B is not.
    slots = free_slots(kvo_session, ZWB, MONDAY, count=3, settings=kvo_settings)
    assert [s.starts_at for s in slots] == [
        local(2026, 12, 9, 9),
        local(2026, 12, 9, 10),
        local(2026, 12, 10, 9),
    ]
