"""50 visitors confirm 10 slots at the same moment on PostgreSQL: the database decides."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import time

import pytest
from sqlalchemy import func, select

from kvo import migrate
from kvo.availability import free_slots
from kvo.db import make_engine, session_scope
from kvo.intake import Booked, SlotTaken, finalize_booking
from kvo.models import AvailabilityRule, Booking, ContactArea, Facilitator, Lead
from kvo.settings import Settings
from tests.kvo.intake_support import MONDAY, intake_fields

VISITORS = 50
SLOTS = 10
ZWB = ContactArea.ZEELAND_WEST_BRABANT


@pytest.mark.postgres
def test_fifty_visitors_ten_slots(
    fresh_database_url: Callable[[str], str], make_settings: Callable[..., Settings]
) -> None:
    url = fresh_database_url("postgresql")
    migrate.upgrade(url)
    settings = make_settings(database_url=url, db_timeout_seconds=30)
    engine = make_engine(url, settings, pool_size=VISITORS)  # one connection per visitor
    try:
        with session_scope(engine) as session:
            facilitator = Facilitator(
                name="Begeleider", contact_area=ZWB, email="b@example.org", active=True
            )
            facilitator.availability_rules = [
                AvailabilityRule(weekday=day, start_time=time(9), end_time=time(17))
                for day in range(5)
            ]
            session.add(facilitator)
        with session_scope(engine) as session:
            targets = free_slots(session, ZWB, MONDAY, count=SLOTS, settings=settings)
        assert len(targets) == SLOTS

        barrier = threading.Barrier(VISITORS)

        def visitor(index: int) -> object:
            slot = targets[index % SLOTS]
            barrier.wait(timeout=60)
            with session_scope(engine) as session:
                return finalize_booking(
                    session,
                    intake_fields(email=f"bezoeker{index}@example.org", phone=None),
                    slot.starts_at,
                    f"conversation-{index}",
                    f"client-{index}",
                    MONDAY,
                    settings=settings,
                )

        with ThreadPoolExecutor(max_workers=VISITORS) as pool:
            outcomes = list(pool.map(visitor, range(VISITORS)))

        booked = [o for o in outcomes if isinstance(o, Booked)]
        taken = [o for o in outcomes if isinstance(o, SlotTaken)]
        assert len(booked) == SLOTS
        assert len(taken) == VISITORS - SLOTS
        assert Counter(type(o).__name__ for o in outcomes) == {"Booked": 10, "SlotTaken": 40}
        # Every loser is re-offered fresh slots at once, never the one just lost.
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, SlotTaken):
                assert len(outcome.alternatives) == 3
                assert targets[index % SLOTS] not in outcome.alternatives
        assert {b.starts_at for b in booked} == {slot.starts_at for slot in targets}

        with session_scope(engine) as session:
            leads = session.scalars(select(Lead.reference)).all()
            bookings = session.execute(select(Booking.facilitator_id, Booking.starts_at)).all()
            linked = session.scalar(
                select(func.count()).select_from(Lead).join(Booking, Booking.lead_id == Lead.id)
            )
        # 0 lost leads: every "geboekt" answer has its lead and booking; 0 duplicates.
        assert sorted(leads) == sorted(b.reference for b in booked)
        assert len(bookings) == len(set(bookings)) == SLOTS
        assert linked == SLOTS
    finally:
        engine.dispose()
