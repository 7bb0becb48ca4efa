"""Demo data: fictitious KVO trajectories in real Noord-Brabant and Zeeland places.

Every trajectory, facilitator and date here is invented for demonstrations;
the facilitators have made-up names and @example.org addresses. Dates are
offsets from today, so the demo stays current (an audit stays "next month").

``DEMO_TRAJECTORIES`` is the table the README lists (reference + access code).
Loading is idempotent: rows are matched on natural keys (reference, e-mail,
area name + municipality) and only fields that differ are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kvo import access_codes
from kvo.db_purpose import require_demo_database
from kvo.models import (
    Area,
    AreaKind,
    AvailabilityRule,
    ContactArea,
    ConvenantSignature,
    Facilitator,
    PhaseEvent,
    Province,
    Stakeholder,
    Trajectory,
    TrajectoryKind,
)
from kvo.settings import Settings, get_settings
from kvo.timeutil import add_years, local_date, utc_now

CERTIFICATE_YEARS = 3

# --- facilitators (invented people) -------------------------------------------------


# A weekly block of intake slots: (weekday Monday=0, start, end); 60-minute slots.
WeeklyBlock = tuple[int, time, time]
_MON, _TUE, _WED, _THU, _FRI = range(5)
_MORNING = (time(9), time(12))
_AFTERNOON = (time(13), time(16))


@dataclass(frozen=True)
class DemoFacilitator:
    name: str
    contact_area: ContactArea
    email: str
    # Every working day has blocks in each contact area, so `make run` can always book.
    weekly: tuple[WeeklyBlock, ...] = ()


_ZWB_AREA, _OB_AREA = ContactArea.ZEELAND_WEST_BRABANT, ContactArea.OOST_BRABANT
FENNA = DemoFacilitator(
    "Fenna Fictief",
    _ZWB_AREA,
    "fenna.fictief@example.org",
    ((_MON, *_MORNING), (_WED, *_MORNING), (_THU, *_AFTERNOON)),
)
JOOST = DemoFacilitator(
    "Joost Voorbeeld",
    _ZWB_AREA,
    "joost.voorbeeld@example.org",
    ((_TUE, *_MORNING), (_THU, *_MORNING), (_FRI, *_AFTERNOON)),
)
MILA = DemoFacilitator(
    "Mila Demo",
    _OB_AREA,
    "mila.demo@example.org",
    ((_MON, *_MORNING), (_WED, *_AFTERNOON), (_FRI, *_MORNING)),
)
SANNE = DemoFacilitator(
    "Sanne Testmans",
    _OB_AREA,
    "sanne.testmans@example.org",
    ((_TUE, *_AFTERNOON), (_THU, *_MORNING), (_FRI, *_AFTERNOON)),
)
RUBEN = DemoFacilitator(
    "Ruben Proefmans",
    _ZWB_AREA,
    "ruben.proefmans@example.org",
    ((_MON, *_AFTERNOON), (_TUE, *_AFTERNOON), (_FRI, *_MORNING)),
)

DEMO_FACILITATORS: tuple[DemoFacilitator, ...] = (FENNA, JOOST, MILA, SANNE, RUBEN)

# --- convenant partners per place ---------------------------------------------------

_POLICE = {
    "Zeeland-West-Brabant": "Politie eenheid Zeeland-West-Brabant",
    "Oost-Brabant": "Politie eenheid Oost-Brabant",
}
_FIRE = {
    "MWB": "Brandweer Midden- en West-Brabant",
    "BN": "Brandweer Brabant-Noord",
    "BZO": "Brandweer Brabant-Zuidoost",
    "ZL": "Brandweer Zeeland",
}


@dataclass(frozen=True)
class DemoTrajectory:
    """One demo trajectory. Day offsets are relative to today (negative = past)."""

    reference: str
    access_code: str
    area_name: str
    area_kind: AreaKind
    municipality: str
    province: Province
    contact_area: ContactArea
    kind: TrajectoryKind
    target_stars: int
    # Start of each phase reached so far (phase 1 first); length = current phase.
    phase_starts: tuple[int, ...]
    entrepreneurs: str
    police: str
    fire: str
    facilitator: DemoFacilitator | None
    next_step: str
    next_step_owner: str
    # Parties that have not signed the convenant yet (phase 1 only).
    unsigned: tuple[Stakeholder, ...] = ()
    extra_partners: tuple[str, ...] = ()
    schouw: int | None = None
    audit: int | None = None
    survey_response: float | None = None
    survey_required: float | None = None
    # Recertifications before phase 5 still hold the previous certificate.
    previous_certificate_expires: int | None = None

    @property
    def current_phase(self) -> int:
        return len(self.phase_starts)


# The former five regions, kept as names for readability: West-Brabant, Midden-Brabant
# (Hart van Brabant) and Zeeland form the contact area "Zeeland en West-Brabant";
# Noordoost- and Zuidoost-Brabant form "Oost-Brabant".
_WB = _MB = _ZL = ContactArea.ZEELAND_WEST_BRABANT
_NOB = _ZOB = ContactArea.OOST_BRABANT
_FIRST, _RECERT = TrajectoryKind.FIRST_CERTIFICATION, TrajectoryKind.RECERTIFICATION
_SHOP, _PARK, _RURAL = AreaKind.WINKELGEBIED, AreaKind.BEDRIJVENTERREIN, AreaKind.BUITENGEBIED
_NB, _ZE = Province.NOORD_BRABANT, Province.ZEELAND
_ZWB, _OB = _POLICE["Zeeland-West-Brabant"], _POLICE["Oost-Brabant"]

DEMO_TRAJECTORIES: tuple[DemoTrajectory, ...] = (
    # Phase 1: cooperation and convenant.
    DemoTrajectory(
        reference="KVO-2025-0003",
        access_code="M4DC-XGHG",
        area_name="Bedrijventerrein De Rietvelden",
        area_kind=_PARK,
        municipality="'s-Hertogenbosch",
        province=_NB,
        contact_area=_NOB,
        kind=_FIRST,
        target_stars=1,
        phase_starts=(-45,),
        entrepreneurs="Ondernemersvereniging De Rietvelden",
        police=_OB,
        fire=_FIRE["BN"],
        facilitator=MILA,
        unsigned=(Stakeholder.BRANDWEER,),
        extra_partners=("Parkmanagement De Rietvelden",),
        next_step="Convenant laten ondertekenen door de brandweer",
        next_step_owner="Procesbegeleider PVO",
    ),
    DemoTrajectory(
        reference="KVO-2025-0026",
        access_code="YL25-36T7",
        area_name="Buitengebied Goes",
        area_kind=_RURAL,
        municipality="Goes",
        province=_ZE,
        contact_area=_ZL,
        kind=_FIRST,
        target_stars=1,
        phase_starts=(-12,),
        entrepreneurs="Agrarische ondernemers Goes",
        police=_ZWB,
        fire=_FIRE["ZL"],
        facilitator=None,
        unsigned=(
            Stakeholder.ONDERNEMERS,
            Stakeholder.POLITIE,
            Stakeholder.BRANDWEER,
        ),
        next_step="Werkgroep samenstellen en het gebied afbakenen",
        next_step_owner="Gemeente Goes",
    ),
    # Phase 2: safety analysis (schouw and survey).
    DemoTrajectory(
        reference="KVO-2024-0031",
        access_code="WVZ4-LWUX",
        area_name="Binnenstad Breda",
        area_kind=_SHOP,
        municipality="Breda",
        province=_NB,
        contact_area=_WB,
        kind=_RECERT,
        target_stars=3,
        phase_starts=(-150, -60),
        entrepreneurs="Ondernemersvereniging Binnenstad Breda",
        police=_ZWB,
        fire=_FIRE["MWB"],
        facilitator=FENNA,
        schouw=-25,
        survey_response=22.0,
        survey_required=30.0,
        previous_certificate_expires=425,
        next_step="Meer ondernemers de enquête laten invullen",
        next_step_owner="Ondernemersvereniging Binnenstad Breda",
    ),
    DemoTrajectory(
        reference="KVO-2025-0009",
        access_code="UG9L-GTHC",
        area_name="Buitengebied Hulst",
        area_kind=_RURAL,
        municipality="Hulst",
        province=_ZE,
        contact_area=_ZL,
        kind=_FIRST,
        target_stars=1,
        phase_starts=(-130, -20),
        entrepreneurs="Ondernemers Buitengebied Hulst",
        police=_ZWB,
        fire=_FIRE["ZL"],
        facilitator=RUBEN,
        extra_partners=("Waterschap Scheldestromen",),
        schouw=12,
        survey_response=9.0,
        survey_required=30.0,
        next_step="Schouw overdag en 's avonds uitvoeren",
        next_step_owner="Werkgroep KVO",
    ),
    DemoTrajectory(
        reference="KVO-2025-0035",
        access_code="VN2F-P5ZD",
        area_name="Binnenstad Middelburg",
        area_kind=_SHOP,
        municipality="Middelburg",
        province=_ZE,
        contact_area=_ZL,
        kind=_RECERT,
        target_stars=3,
        phase_starts=(-170, -75),
        entrepreneurs="Ondernemersvereniging Binnenstad Middelburg",
        police=_ZWB,
        fire=_FIRE["ZL"],
        facilitator=RUBEN,
        schouw=-30,
        survey_response=34.5,
        survey_required=30.0,
        previous_certificate_expires=610,
        next_step="Uitkomsten van schouw en enquête bespreken in de werkgroep",
        next_step_owner="Werkgroep KVO",
    ),
    # Phase 3: plan van aanpak.
    DemoTrajectory(
        reference="KVO-2024-0044",
        access_code="5FT8-YLRB",
        area_name="Bedrijventerrein De Hurk",
        area_kind=_PARK,
        municipality="Eindhoven",
        province=_NB,
        contact_area=_ZOB,
        kind=_FIRST,
        target_stars=1,
        phase_starts=(-260, -170, -40),
        entrepreneurs="Ondernemersvereniging De Hurk",
        police=_OB,
        fire=_FIRE["BZO"],
        facilitator=SANNE,
        extra_partners=("Parkmanagement De Hurk",),
        schouw=-120,
        survey_response=41.0,
        survey_required=30.0,
        next_step="Maatregelen en planning vastleggen in het plan van aanpak",
        next_step_owner="Werkgroep KVO",
    ),
    DemoTrajectory(
        reference="KVO-2025-0014",
        access_code="VRYX-FWPK",
        area_name="Bedrijventerrein Borchwerf",
        area_kind=_PARK,
        municipality="Roosendaal",
        province=_NB,
        contact_area=_WB,
        kind=_RECERT,
        target_stars=2,
        phase_starts=(-200, -130, -30),
        entrepreneurs="Ondernemersvereniging Borchwerf",
        police=_ZWB,
        fire=_FIRE["MWB"],
        facilitator=FENNA,
        schouw=-100,
        survey_response=36.0,
        survey_required=30.0,
        previous_certificate_expires=280,
        next_step="Plan van aanpak ter goedkeuring voorleggen aan alle partners",
        next_step_owner="Procesbegeleider PVO",
    ),
    DemoTrajectory(
        reference="KVO-2025-0040",
        access_code="B9NT-T722",
        area_name="Binnenstad en boulevard Vlissingen",
        area_kind=_SHOP,
        municipality="Vlissingen",
        province=_ZE,
        contact_area=_ZL,
        kind=_FIRST,
        target_stars=1,
        phase_starts=(-240, -150, -15),
        entrepreneurs="Ondernemersvereniging Vlissingen Centrum",
        police=_ZWB,
        fire=_FIRE["ZL"],
        facilitator=RUBEN,
        schouw=-110,
        survey_response=32.0,
        survey_required=30.0,
        next_step="Afspraken over verlichting en cameratoezicht uitwerken",
        next_step_owner="Gemeente Vlissingen",
    ),
    # Phase 4: audit by Kiwa NCP.
    DemoTrajectory(
        reference="KVO-2024-0012",
        access_code="4K92-YP4M",
        area_name="Binnenstad Terneuzen",
        area_kind=_SHOP,
        municipality="Terneuzen",
        province=_ZE,
        contact_area=_ZL,
        kind=_RECERT,
        # The city centre already holds its fourth star (kvo-facts): this round is for the fifth.
        target_stars=5,
        phase_starts=(-330, -250, -140, -25),
        entrepreneurs="Ondernemersvereniging Binnenstad Terneuzen",
        police=_ZWB,
        fire=_FIRE["ZL"],
        facilitator=RUBEN,
        schouw=-200,
        audit=20,
        survey_response=38.0,
        survey_required=30.0,
        # The one certificate that expires within six months.
        previous_certificate_expires=120,
        next_step="Audit door Kiwa NCP voorbereiden",
        next_step_owner="Procesbegeleider PVO",
    ),
    DemoTrajectory(
        reference="KVO-2025-0021",
        access_code="4MVP-EWMM",
        area_name="Centrum Helmond",
        area_kind=_SHOP,
        municipality="Helmond",
        province=_NB,
        contact_area=_ZOB,
        kind=_FIRST,
        target_stars=1,
        phase_starts=(-360, -280, -170, -10),
        entrepreneurs="Centrummanagement Helmond",
        police=_OB,
        fire=_FIRE["BZO"],
        facilitator=SANNE,
        schouw=-230,
        audit=35,
        survey_response=33.0,
        survey_required=30.0,
        next_step="Dossier compleet maken voor de audit",
        next_step_owner="Werkgroep KVO",
    ),
    # Phase 5: certified; recertify before the certificate expires.
    DemoTrajectory(
        reference="KVO-2024-0007",
        access_code="YS5J-KC8Y",
        area_name="Havengebied Moerdijk",
        area_kind=_PARK,
        municipality="Moerdijk",
        province=_NB,
        contact_area=_WB,
        kind=_RECERT,
        target_stars=3,
        phase_starts=(-680, -600, -500, -380, -300),
        entrepreneurs="Ondernemers Havengebied Moerdijk",
        police=_ZWB,
        fire=_FIRE["MWB"],
        facilitator=FENNA,
        extra_partners=("Havenbedrijf Moerdijk",),
        schouw=-560,
        audit=-320,
        survey_response=44.0,
        survey_required=30.0,
        next_step="Voortgang van de maatregelen bespreken in het werkgroepoverleg",
        next_step_owner="Werkgroep KVO",
    ),
    DemoTrajectory(
        reference="KVO-2024-0018",
        access_code="RC22-P3Y9",
        area_name="Binnenstad Bergen op Zoom",
        area_kind=_SHOP,
        municipality="Bergen op Zoom",
        province=_NB,
        contact_area=_WB,
        kind=_RECERT,
        target_stars=2,
        # Certified 3 years and 40 days ago: the one expired certificate.
        phase_starts=(-1500, -1420, -1320, -1210, -1136),
        entrepreneurs="Ondernemersvereniging Binnenstad Bergen op Zoom",
        police=_ZWB,
        fire=_FIRE["MWB"],
        facilitator=FENNA,
        schouw=-1380,
        audit=-1160,
        survey_response=31.0,
        survey_required=30.0,
        next_step="Hercertificering opstarten met de partners",
        next_step_owner="Gemeente Bergen op Zoom",
    ),
    DemoTrajectory(
        reference="KVO-2024-0023",
        access_code="Q6TA-37UR",
        area_name="Bedrijventerrein Vossenberg",
        area_kind=_PARK,
        municipality="Tilburg",
        province=_NB,
        contact_area=_MB,
        kind=_FIRST,
        target_stars=1,
        phase_starts=(-520, -430, -330, -220, -150),
        entrepreneurs="Ondernemersvereniging Vossenberg",
        police=_ZWB,
        fire=_FIRE["MWB"],
        facilitator=JOOST,
        extra_partners=("Parkmanagement Vossenberg",),
        schouw=-390,
        audit=-170,
        survey_response=35.0,
        survey_required=30.0,
        next_step="Jaarlijkse evaluatie van de maatregelen",
        next_step_owner="Werkgroep KVO",
    ),
    DemoTrajectory(
        reference="KVO-2025-0030",
        access_code="5FYT-4MLD",
        area_name="Bedrijventerrein Elzenburg-De Geer",
        area_kind=_PARK,
        municipality="Oss",
        province=_NB,
        contact_area=_NOB,
        kind=_RECERT,
        target_stars=2,
        phase_starts=(-400, -320, -220, -110, -60),
        entrepreneurs="Ondernemersvereniging Elzenburg-De Geer",
        police=_OB,
        fire=_FIRE["BN"],
        facilitator=MILA,
        schouw=-290,
        audit=-75,
        survey_response=39.0,
        survey_required=30.0,
        next_step="Nieuwe ondernemers informeren over het keurmerk",
        next_step_owner="Ondernemersvereniging Elzenburg-De Geer",
    ),
)


# --- turning a definition into column values ----------------------------------------


def _day(today: date, offset: int | None) -> date | None:
    return None if offset is None else today + timedelta(days=offset)


def _phase_rows(demo: DemoTrajectory, today: date) -> dict[int, dict[str, Any]]:
    starts = [today + timedelta(days=offset) for offset in demo.phase_starts]
    rows = {}
    for index, started in enumerate(starts):
        phase = index + 1
        # A phase ends when the next one starts; the current one (and 5) stays open.
        completed = starts[index + 1] if index + 1 < len(starts) else None
        rows[phase] = {"started_on": started, "completed_on": completed}
    return rows


def _signature_rows(demo: DemoTrajectory, today: date) -> dict[str, dict[str, Any]]:
    # Everyone signs shortly before the analysis starts; in phase 1 some are pending.
    phase_one = today + timedelta(days=demo.phase_starts[0])
    if demo.current_phase > 1:
        signed = today + timedelta(days=demo.phase_starts[1] - 5)
    else:
        signed = phase_one + timedelta(days=max(1, -demo.phase_starts[0] // 2))
    parties = [
        (Stakeholder.GEMEENTE, f"Gemeente {demo.municipality}"),
        (Stakeholder.ONDERNEMERS, demo.entrepreneurs),
        (Stakeholder.POLITIE, demo.police),
        (Stakeholder.BRANDWEER, demo.fire),
        *((Stakeholder.OVERIG, partner) for partner in demo.extra_partners),
    ]
    return {
        party: {
            "stakeholder": stakeholder,
            "signed_on": None if stakeholder in demo.unsigned else signed,
        }
        for stakeholder, party in parties
    }


def _certificate(demo: DemoTrajectory, today: date) -> tuple[date | None, date | None]:
    if demo.current_phase == 5:
        issued = today + timedelta(days=demo.phase_starts[4])
        return issued, add_years(issued, CERTIFICATE_YEARS)
    if demo.previous_certificate_expires is not None:
        expires = today + timedelta(days=demo.previous_certificate_expires)
        return add_years(expires, -CERTIFICATE_YEARS), expires
    return None, None


def _trajectory_values(demo: DemoTrajectory, today: date) -> dict[str, Any]:
    issued, expires = _certificate(demo, today)
    return {
        "kind": demo.kind,
        "target_stars": demo.target_stars,
        "current_phase": demo.current_phase,
        "survey_response_rate": demo.survey_response,
        "survey_required_rate": demo.survey_required,
        "schouw_date": _day(today, demo.schouw),
        "audit_date": _day(today, demo.audit),
        "certificate_issued_on": issued,
        "certificate_expires_on": expires,
        "next_step": demo.next_step,
        "next_step_owner": demo.next_step_owner,
    }


# --- loading ------------------------------------------------------------------------


@dataclass
class DemoLoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated


def _assign(obj: object, values: dict[str, Any]) -> bool:
    """Set only attributes that differ; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _upsert_facilitators(session: Session, result: DemoLoadResult) -> dict[str, Facilitator]:
    emails = [f.email for f in DEMO_FACILITATORS]
    existing = {
        f.email: f
        for f in session.scalars(
            select(Facilitator)
            .where(Facilitator.email.in_(emails))
            .options(selectinload(Facilitator.availability_rules))
        )
    }
    for demo in DEMO_FACILITATORS:
        row = existing.get(demo.email)
        if row is None:
            row = Facilitator(
                email=demo.email, name=demo.name, contact_area=demo.contact_area, active=True
            )
            session.add(row)
            existing[demo.email] = row
            _sync_rules(row, demo)
            result.created += 1
            continue
        changed = _assign(row, {"name": demo.name, "contact_area": demo.contact_area})
        changed |= _assign(row, {"active": True})
        changed |= _sync_rules(row, demo)
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1
    return existing


def _sync_rules(row: Facilitator, demo: DemoFacilitator) -> bool:
    """Make the facilitator's weekly rules exactly the demo's; True when anything changed."""
    wanted = {(weekday, start, end, 60) for weekday, start, end in demo.weekly}
    changed = False
    for rule in list(row.availability_rules):
        key = (rule.weekday, rule.start_time, rule.end_time, rule.slot_minutes)
        if key in wanted:
            wanted.discard(key)
        else:
            row.availability_rules.remove(rule)
            changed = True
    for weekday, start, end, minutes in sorted(wanted):
        row.availability_rules.append(
            AvailabilityRule(weekday=weekday, start_time=start, end_time=end, slot_minutes=minutes)
        )
        changed = True
    return changed


def _upsert_area(session: Session, demo: DemoTrajectory, result: DemoLoadResult) -> Area:
    area = session.scalars(
        select(Area).where(Area.name == demo.area_name, Area.municipality == demo.municipality)
    ).one_or_none()
    values = {"kind": demo.area_kind, "province": demo.province, "contact_area": demo.contact_area}
    if area is None:
        area = Area(name=demo.area_name, municipality=demo.municipality, **values)
        session.add(area)
        result.created += 1
    elif _assign(area, values):
        result.updated += 1
    elif area not in session.new:
        result.unchanged += 1
    return area


def _sync_children(
    collection: list[Any], wanted: dict[Any, dict[str, Any]], key: str, make: type
) -> bool:
    """Bring a child collection in line with ``wanted`` (keyed by attribute ``key``)."""
    changed = False
    by_key = {getattr(child, key): child for child in list(collection)}
    for child_key, values in wanted.items():
        child = by_key.pop(child_key, None)
        if child is None:
            collection.append(make(**{key: child_key}, **values))
            changed = True
        elif _assign(child, values):
            changed = True
    for leftover in by_key.values():
        collection.remove(leftover)
        changed = True
    return changed


def _upsert_trajectory(
    session: Session,
    demo: DemoTrajectory,
    area: Area,
    facilitators: dict[str, Facilitator],
    today: date,
    settings: Settings,
) -> str:
    trajectory = session.scalars(
        select(Trajectory)
        .where(Trajectory.reference == demo.reference)
        .options(
            selectinload(Trajectory.phase_events),
            selectinload(Trajectory.convenant_signatures),
        )
    ).one_or_none()
    facilitator = facilitators[demo.facilitator.email] if demo.facilitator else None
    values = _trajectory_values(demo, today)
    created = trajectory is None
    if trajectory is None:
        trajectory = Trajectory(
            reference=demo.reference,
            access_code_hash=access_codes.hash_code(demo.access_code, settings),
        )
        session.add(trajectory)
    changed = _assign(trajectory, values)
    changed |= _assign(trajectory, {"area": area, "facilitator": facilitator})
    # The documented demo code must keep working, e.g. after a rotation.
    if not created and not access_codes.verify_code(
        demo.access_code, trajectory.access_code_hash, settings
    ):
        trajectory.access_code_hash = access_codes.hash_code(demo.access_code, settings)
        changed = True
    changed |= _sync_children(
        trajectory.phase_events, _phase_rows(demo, today), "phase", PhaseEvent
    )
    changed |= _sync_children(
        trajectory.convenant_signatures,
        _signature_rows(demo, today),
        "party_name",
        ConvenantSignature,
    )
    if created:
        return "created"
    return "updated" if changed else "unchanged"


def load_demo_data(
    session: Session,
    today: date | None = None,
    *,
    settings: Settings | None = None,
    trajectories: Sequence[DemoTrajectory] = DEMO_TRAJECTORIES,
) -> DemoLoadResult:
    """Create or refresh all demo rows; a second run on the same day changes nothing.

    Counts are rows of facilitators, areas and trajectories (a trajectory's phase
    history and signatures count with it).
    Only into a database marked as a demo database (kvo.db_purpose): raises NotADemoDatabase.
    Flushes only: call it inside ``session_scope()``.
    """
    require_demo_database(session)
    settings = settings or get_settings()
    today = today or local_date(utc_now(), settings.timezone)
    result = DemoLoadResult()
    facilitators = _upsert_facilitators(session, result)
    for demo in trajectories:
        area = _upsert_area(session, demo, result)
        outcome = _upsert_trajectory(session, demo, area, facilitators, today, settings)
        setattr(result, outcome, getattr(result, outcome) + 1)
    session.flush()
    return result
