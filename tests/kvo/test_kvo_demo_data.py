"""The demo loader: coverage of the domain, idempotence, working documented codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kvo.availability import free_slots, next_working_day
from kvo.certificates import certificate_state
from kvo.db_purpose import mark_demo
from kvo.demo_data import DEMO_FACILITATORS, DEMO_TRAJECTORIES, load_demo_data
from kvo.models import (
    Area,
    AreaKind,
    AvailabilityRule,
    ContactArea,
    ConvenantSignature,
    Facilitator,
    PhaseEvent,
    Province,
    Trajectory,
    TrajectoryKind,
)
from kvo.municipalities import contact_area_for
from kvo.settings import Settings
from kvo.status import Granted, check_status

TODAY = date(2025, 3, 15)
NOON = datetime.combine(TODAY, time(12), tzinfo=UTC)

ALLOWED_MUNICIPALITIES = {
    "Breda", "Tilburg", "Eindhoven", "'s-Hertogenbosch", "Moerdijk", "Roosendaal",
    "Bergen op Zoom", "Helmond", "Oss", "Terneuzen", "Middelburg", "Vlissingen", "Goes", "Hulst",
}  # fmt: skip


def _snapshot(session: Session) -> list[tuple]:
    rows: list[tuple] = []
    for model in (Area, Facilitator, AvailabilityRule, Trajectory, PhaseEvent, ConvenantSignature):
        columns = list(model.__table__.columns)
        result = session.execute(select(*columns).order_by(*model.__table__.primary_key))
        rows.extend((model.__tablename__, *row) for row in result)
    return rows


@pytest.fixture
def demo_session(kvo_session: Session) -> Session:
    """An empty database marked as a demo database (the loader refuses any other)."""
    mark_demo(kvo_session)
    return kvo_session


def test_the_table_covers_the_domain() -> None:
    assert len(DEMO_TRAJECTORIES) >= 12
    assert {d.current_phase for d in DEMO_TRAJECTORIES} == {1, 2, 3, 4, 5}
    assert {d.area_kind for d in DEMO_TRAJECTORIES} == set(AreaKind)
    assert {d.kind for d in DEMO_TRAJECTORIES} == set(TrajectoryKind)
    assert {d.province for d in DEMO_TRAJECTORIES} == set(Province)
    assert {d.target_stars for d in DEMO_TRAJECTORIES} >= {1, 2, 3}
    assert {d.municipality for d in DEMO_TRAJECTORIES} <= ALLOWED_MUNICIPALITIES
    assert len({d.reference for d in DEMO_TRAJECTORIES}) == len(DEMO_TRAJECTORIES)
    assert len({d.access_code for d in DEMO_TRAJECTORIES}) == len(DEMO_TRAJECTORIES)
    assert all(f.email.endswith("@example.org") for f in DEMO_FACILITATORS)
    for demo in DEMO_TRAJECTORIES:
        # Recertifications aim for at least a second star; first ones for the first.
        assert (demo.target_stars == 1) == (demo.kind is TrajectoryKind.FIRST_CERTIFICATION)


def test_load_is_idempotent_and_consistent(demo_session: Session, kvo_settings: Settings) -> None:
    first = load_demo_data(demo_session, TODAY, settings=kvo_settings)
    demo_session.commit()
    assert first.created == len(DEMO_TRAJECTORIES) * 2 + len(DEMO_FACILITATORS)
    before = _snapshot(demo_session)

    second = load_demo_data(demo_session, TODAY, settings=kvo_settings)
    demo_session.commit()
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created
    assert _snapshot(demo_session) == before  # including updated_at: nothing was written

    trajectories = demo_session.scalars(select(Trajectory)).all()
    assert {t.current_phase for t in trajectories} == {1, 2, 3, 4, 5}
    assert len(trajectories) == len(DEMO_TRAJECTORIES)
    states = [certificate_state(t.certificate_expires_on, TODAY) for t in trajectories]
    assert states.count("verloopt_binnenkort") == 1
    assert states.count("verlopen") == 1
    assert "geldig" in states
    for trajectory in trajectories:
        phases = sorted(e.phase for e in trajectory.phase_events)
        assert phases == list(range(1, trajectory.current_phase + 1))
        assert {s.stakeholder.value for s in trajectory.convenant_signatures} >= {
            "gemeente", "ondernemers", "politie", "brandweer",
        }  # fmt: skip
        if trajectory.current_phase == 5:
            assert trajectory.certificate_issued_on is not None
        if trajectory.current_phase == 4:
            assert trajectory.audit_date is not None and trajectory.audit_date > TODAY


def test_a_later_day_moves_dates_and_a_rotated_code_is_restored(
    demo_session: Session, kvo_settings: Settings
) -> None:
    load_demo_data(demo_session, TODAY, settings=kvo_settings)
    demo = DEMO_TRAJECTORIES[0]
    trajectory = demo_session.scalars(
        select(Trajectory).where(Trajectory.reference == demo.reference)
    ).one()
    trajectory.access_code_hash = "$argon2id$rotated"
    demo_session.flush()

    result = load_demo_data(demo_session, date(2025, 3, 16), settings=kvo_settings)
    assert result.created == 0 and result.updated == len(DEMO_TRAJECTORIES)
    demo_session.commit()
    outcome = check_status(
        demo_session, demo.reference, demo.access_code, "demo", NOON, settings=kvo_settings
    )
    assert isinstance(outcome, Granted)


def test_every_documented_demo_code_works(demo_session: Session, kvo_settings: Settings) -> None:
    load_demo_data(demo_session, TODAY, settings=kvo_settings)
    for demo in DEMO_TRAJECTORIES:
        outcome = check_status(
            demo_session,
            demo.reference.lower(),
            demo.access_code,
            f"demo-{demo.reference}",
            NOON,
            settings=kvo_settings,
        )
        assert isinstance(outcome, Granted), demo.reference
        assert outcome.report.current_phase == demo.current_phase
        assert outcome.report.municipality == demo.municipality


def test_terneuzen_already_has_its_fourth_star() -> None:
    # kvo-facts: the city centre earned its fourth star; its current round aims for the fifth.
    terneuzen = next(d for d in DEMO_TRAJECTORIES if d.area_name == "Binnenstad Terneuzen")
    assert terneuzen.reference == "KVO-2024-0012" and terneuzen.access_code == "4K92-YP4M"
    assert terneuzen.kind is TrajectoryKind.RECERTIFICATION
    assert terneuzen.target_stars == 5


def test_each_contact_area_can_book_on_each_of_the_next_ten_working_days(
    demo_session: Session, kvo_settings: Settings
) -> None:
    load_demo_data(demo_session, TODAY, settings=kvo_settings)
    facilitators = demo_session.scalars(select(Facilitator)).all()
    for area in ContactArea:
        mine = [f for f in facilitators if f.contact_area is area]
        assert len(mine) >= 2 and all(f.availability_rules and f.active for f in mine)
    days, day = [], TODAY
    while len(days) < 10:
        day = next_working_day(day)
        days.append(day)
    for area in ContactArea:
        slots = free_slots(demo_session, area, NOON, count=200, settings=kvo_settings)
        offered = {s.starts_at.astimezone(ZoneInfo("Europe/Amsterdam")).date() for s in slots}
        assert set(days) <= offered, area


def test_areas_carry_the_contact_area_of_their_municipality(
    demo_session: Session, kvo_settings: Settings
) -> None:
    load_demo_data(demo_session, TODAY, settings=kvo_settings)
    for area in demo_session.scalars(select(Area)):
        assert area.contact_area is contact_area_for(area.municipality), area.name
    for demo in DEMO_TRAJECTORIES:
        if demo.facilitator is not None:
            assert demo.facilitator.contact_area is demo.contact_area, demo.reference
