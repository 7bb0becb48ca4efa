"""check_status against real databases: grant, deny, lockout and hostile input."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from kvo import access_codes
from kvo.lockout import conversation_key
from kvo.models import (
    Area,
    AreaKind,
    ContactArea,
    ConvenantSignature,
    Facilitator,
    FailedAttempt,
    PhaseEvent,
    Province,
    Stakeholder,
    Trajectory,
    TrajectoryKind,
)
from kvo.settings import Settings
from kvo.status import (
    Denied,
    Granted,
    LockedOut,
    PhaseRecord,
    SignatureRecord,
    StatusReport,
    check_status,
    load_report,
    lockout_state,
)

MakeSettings = Callable[..., Settings]
NOW = datetime(2025, 3, 15, 9, 0, tzinfo=UTC)
TODAY = date(2025, 3, 15)
CODE = "ABCD-EFGH"
REFERENCE = "KVO-2024-0031"


def _add_trajectory(
    session: Session,
    settings: Settings,
    reference: str = REFERENCE,
    code: str = CODE,
    expires_on: date | None = date(2025, 7, 1),
) -> Trajectory:
    area = Area(
        name="Binnenstad Breda",
        kind=AreaKind.WINKELGEBIED,
        municipality="Breda",
        province=Province.NOORD_BRABANT,
        contact_area=ContactArea.ZEELAND_WEST_BRABANT,
    )
    facilitator = Facilitator(
        name="Fenna Fictief",
        contact_area=ContactArea.ZEELAND_WEST_BRABANT,
        email=f"{reference}@example.org",
    )
    trajectory = Trajectory(
        reference=reference,
        area=area,
        facilitator=facilitator,
        kind=TrajectoryKind.RECERTIFICATION,
        target_stars=3,
        current_phase=3,
        survey_response_rate=34.5,
        survey_required_rate=30,
        schouw_date=date(2024, 11, 2),
        audit_date=None,
        certificate_issued_on=date(2022, 7, 1),
        certificate_expires_on=expires_on,
        next_step="Plan van aanpak afronden",
        next_step_owner="Werkgroep KVO",
        access_code_hash=access_codes.hash_code(code, settings),
        phase_events=[
            PhaseEvent(phase=2, started_on=date(2024, 9, 1), completed_on=date(2025, 1, 10)),
            PhaseEvent(phase=1, started_on=date(2024, 5, 1), completed_on=date(2024, 9, 1)),
            PhaseEvent(phase=3, started_on=date(2025, 1, 10)),
        ],
        convenant_signatures=[
            ConvenantSignature(
                stakeholder=Stakeholder.GEMEENTE, party_name="Gemeente Breda", signed_on=None
            ),
            ConvenantSignature(
                stakeholder=Stakeholder.POLITIE,
                party_name="Politie eenheid Zeeland-West-Brabant",
                signed_on=date(2024, 8, 20),
            ),
        ],
    )
    area.name = f"Binnenstad Breda {reference}"  # unique per trajectory
    session.add(trajectory)
    session.flush()
    return trajectory


def _attempts(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FailedAttempt)) or 0


def test_granted_report_has_the_right_plain_values(
    kvo_session: Session, kvo_settings: Settings
) -> None:
    _add_trajectory(kvo_session, kvo_settings)
    outcome = check_status(
        kvo_session, "status kvo 2024 31 graag", "abcd efgh", "conv-1", NOW, settings=kvo_settings
    )
    assert isinstance(outcome, Granted)
    report = outcome.report
    assert report == StatusReport(
        reference=REFERENCE,
        area_name=f"Binnenstad Breda {REFERENCE}",
        area_kind="winkelgebied",
        municipality="Breda",
        province="Noord-Brabant",
        trajectory_kind="hercertificering",
        target_stars=3,
        current_phase=3,
        phase_name="Plan van aanpak",
        current_phase_started_on=date(2025, 1, 10),
        completed_phases=(
            PhaseRecord(1, "Samenwerking en convenant", date(2024, 5, 1), date(2024, 9, 1)),
            PhaseRecord(
                2,
                "Veiligheidsanalyse (schouw en enquête)",
                date(2024, 9, 1),
                date(2025, 1, 10),
            ),
        ),
        convenant_signatures=(
            SignatureRecord("gemeente", "Gemeente Breda", None),
            SignatureRecord("politie", "Politie eenheid Zeeland-West-Brabant", date(2024, 8, 20)),
        ),
        survey_response_rate=34.5,
        survey_required_rate=30.0,
        schouw_date=date(2024, 11, 2),
        audit_date=None,
        certificate_issued_on=date(2022, 7, 1),
        certificate_expires_on=date(2025, 7, 1),
        certificate_state="verloopt_binnenkort",
        next_step="Plan van aanpak afronden",
        next_step_owner="Werkgroep KVO",
        facilitator_name="Fenna Fictief",
    )
    # Plain values only: no ORM instances, no enum members, and immutable.
    for value in dataclasses.asdict(report).values():
        assert type(value) in {str, int, float, date, tuple, list, dict, type(None)}, value
    assert type(report.area_kind) is str
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.current_phase = 4  # type: ignore[misc]
    assert _attempts(kvo_session) == 0


def test_wrong_code_and_unknown_reference_look_the_same(
    kvo_session: Session, kvo_settings: Settings
) -> None:
    _add_trajectory(kvo_session, kvo_settings)
    wrong_code = check_status(
        kvo_session, REFERENCE, "ABCD-EFGJ", "conv-1", NOW, settings=kvo_settings
    )
    unknown = check_status(kvo_session, "KVO-2024-0032", CODE, "conv-2", NOW, settings=kvo_settings)
    assert wrong_code == unknown == Denied()
    keys = kvo_session.scalars(
        select(FailedAttempt.reference_key).order_by(FailedAttempt.reference_key)
    ).all()
    assert keys == ["KVO-2024-0031", "KVO-2024-0032"]


def test_conversation_ids_are_stored_hashed(kvo_session: Session, kvo_settings: Settings) -> None:
    check_status(kvo_session, REFERENCE, CODE, "sender-123", NOW, settings=kvo_settings)
    stored = kvo_session.scalars(select(FailedAttempt.conversation_key)).one()
    assert stored == hashlib.sha256(b"sender-123").hexdigest() == conversation_key("sender-123")
    assert "sender-123" not in stored


def test_reference_lockout_spans_conversations_and_then_expires(
    kvo_session: Session, kvo_settings: Settings
) -> None:
    _add_trajectory(kvo_session, kvo_settings)
    for i in range(kvo_settings.lockout_max_attempts):
        outcome = check_status(
            kvo_session,
            REFERENCE,
            "WRNG-CODE",
            f"attacker-{i}",
            NOW + timedelta(minutes=i),
            settings=kvo_settings,
        )
        assert outcome == Denied()

    # A fresh conversation with the right code is refused, and nothing new is stored.
    later = NOW + timedelta(minutes=10)
    outcome = check_status(kvo_session, REFERENCE, CODE, "owner", later, settings=kvo_settings)
    assert outcome == LockedOut(until=NOW + timedelta(minutes=60))
    assert _attempts(kvo_session) == kvo_settings.lockout_max_attempts
    assert lockout_state(kvo_session, "kvo 2024 31", "someone", later, settings=kvo_settings)

    # Once the oldest failure leaves the window the reference is usable again.
    after = NOW + timedelta(minutes=60, seconds=1)
    assert lockout_state(kvo_session, REFERENCE, "owner", after, settings=kvo_settings) is None
    outcome = check_status(kvo_session, REFERENCE, CODE, "owner", after, settings=kvo_settings)
    assert isinstance(outcome, Granted)


def test_unknown_reference_locks_out_exactly_like_a_known_one(
    kvo_session: Session, kvo_settings: Settings
) -> None:
    _add_trajectory(kvo_session, kvo_settings)
    outcomes = {}
    for reference in (REFERENCE, "KVO-2024-0099"):
        for i in range(kvo_settings.lockout_max_attempts):
            check_status(kvo_session, reference, "WRNG-CODE", f"c{i}", NOW, settings=kvo_settings)
        outcomes[reference] = check_status(
            kvo_session, reference, CODE, "next", NOW, settings=kvo_settings
        )
    assert outcomes[REFERENCE] == outcomes["KVO-2024-0099"]
    assert isinstance(outcomes[REFERENCE], LockedOut)


def test_conversation_lockout_across_references(
    kvo_session: Session, kvo_settings: Settings
) -> None:
    _add_trajectory(kvo_session, kvo_settings)
    for i in range(kvo_settings.lockout_max_attempts):
        outcome = check_status(
            kvo_session,
            f"KVO-2024-{100 + i:04d}",
            CODE,
            "guesser",
            NOW + timedelta(seconds=i),
            settings=kvo_settings,
        )
        assert outcome == Denied()
    locked = check_status(kvo_session, REFERENCE, CODE, "guesser", NOW, settings=kvo_settings)
    assert locked == LockedOut(until=NOW + timedelta(minutes=60))
    # Other conversations are not affected.
    other = check_status(kvo_session, REFERENCE, CODE, "someone-else", NOW, settings=kvo_settings)
    assert isinstance(other, Granted)


def test_unparseable_input_only_limits_the_own_conversation(
    kvo_session: Session, kvo_settings: Settings
) -> None:
    for i in range(kvo_settings.lockout_max_attempts):
        assert check_status(
            kvo_session, "geen idee", CODE, f"c{i}", NOW, settings=kvo_settings
        ) == (Denied())
    assert check_status(kvo_session, "weet ik niet", CODE, "c-new", NOW, settings=kvo_settings) == (
        Denied()
    )
    for _ in range(kvo_settings.lockout_max_attempts - 1):
        check_status(kvo_session, "???", CODE, "c0", NOW, settings=kvo_settings)
    assert isinstance(
        check_status(kvo_session, "???", CODE, "c0", NOW, settings=kvo_settings), LockedOut
    )


def test_lockout_uses_the_configured_limits(
    kvo_session: Session, make_settings: MakeSettings
) -> None:
    settings = make_settings(lockout_max_attempts=2, lockout_window_minutes=5)
    _add_trajectory(kvo_session, settings)
    for second in (0, 30):
        check_status(
            kvo_session, REFERENCE, "x", "c", NOW + timedelta(seconds=second), settings=settings
        )
    outcome = check_status(kvo_session, REFERENCE, CODE, "c2", NOW, settings=settings)
    assert outcome == LockedOut(until=NOW + timedelta(minutes=5))
    # The lock lifts when the oldest of the counted failures ages out.
    soon = NOW + timedelta(minutes=5, seconds=1)
    assert isinstance(
        check_status(kvo_session, REFERENCE, CODE, "c2", soon, settings=settings), Granted
    )


def test_old_failures_are_purged(kvo_session: Session, kvo_settings: Settings) -> None:
    check_status(kvo_session, REFERENCE, "x", "c", NOW, settings=kvo_settings)
    check_status(kvo_session, REFERENCE, "x", "c", NOW + timedelta(hours=2), settings=kvo_settings)
    times = kvo_session.scalars(select(FailedAttempt.attempted_at)).all()
    assert times == [NOW + timedelta(hours=2)]
    assert times[0].tzinfo is not None


@pytest.mark.parametrize(
    ("reference_text", "code_text", "conversation_id"),
    [
        ("KVO-2024-0031'; DROP TABLE trajectories; --", "' OR '1'='1", "x'); DELETE FROM areas;--"),
        ("' OR 1=1 --", "ABCD-EFGH", "c"),
        ("KVO-2024-0031", "ABCD-EFGH' OR 'a'='a", "c"),
        ("%", "%", "%"),
        ("KVO-2024-0031" + "x" * 100_000, "A" * 100_000, "c" * 100_000),
        ("\x00KVO-2024-0031", "\x00", "\x00"),
        ("ＫＶＯ－２０２４－００３２", "ＡＢＣＤ－ＥＦＧＪ", "😀" * 1000),
    ],
)
def test_hostile_input_is_denied_safely(
    kvo_session: Session,
    kvo_settings: Settings,
    reference_text: str,
    code_text: str,
    conversation_id: str,
) -> None:
    _add_trajectory(kvo_session, kvo_settings)
    started = time.perf_counter()
    outcome = check_status(
        kvo_session, reference_text, code_text, conversation_id, NOW, settings=kvo_settings
    )
    assert outcome == Denied()
    assert time.perf_counter() - started < 2
    kvo_session.commit()
    assert {"trajectories", "areas"} <= set(inspect(kvo_session.get_bind()).get_table_names())
    assert kvo_session.scalar(select(func.count()).select_from(Trajectory)) == 1


def test_none_inputs_are_denied(kvo_session: Session, kvo_settings: Settings) -> None:
    assert check_status(kvo_session, None, None, "", NOW, settings=kvo_settings) == Denied()


def test_naive_now_is_refused(kvo_session: Session, kvo_settings: Settings) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check_status(kvo_session, REFERENCE, CODE, "c", datetime(2025, 1, 1), settings=kvo_settings)


def test_today_follows_the_configured_time_zone(
    kvo_session: Session, kvo_settings: Settings
) -> None:
    # 23:30 UTC on 30 June is 1 July in Amsterdam: the certificate has just expired there.
    _add_trajectory(kvo_session, kvo_settings, expires_on=date(2025, 6, 30))
    moment = datetime(2025, 6, 30, 23, 30, tzinfo=UTC)
    outcome = check_status(kvo_session, REFERENCE, CODE, "c", moment, settings=kvo_settings)
    assert isinstance(outcome, Granted)
    assert outcome.report.certificate_state == "verlopen"


def test_hash_is_upgraded_after_a_successful_check(
    kvo_session: Session, kvo_settings: Settings, make_settings: MakeSettings
) -> None:
    trajectory = _add_trajectory(kvo_session, kvo_settings)
    stronger = make_settings(argon2_time_cost=3)
    outcome = check_status(kvo_session, REFERENCE, CODE, "c", NOW, settings=stronger)
    assert isinstance(outcome, Granted)
    assert ",t=3," in trajectory.access_code_hash
    assert access_codes.verify_code(CODE, trajectory.access_code_hash, stronger)


def test_load_report_without_access_check(kvo_session: Session, kvo_settings: Settings) -> None:
    _add_trajectory(kvo_session, kvo_settings)
    report = load_report(kvo_session, REFERENCE, TODAY)
    assert report is not None and report.reference == REFERENCE
    assert load_report(kvo_session, "KVO-2024-0099", TODAY) is None
