"""The example reference of the bot texts: readable by the parser, never a real trajectory."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kvo.bench_data import bench_reference
from kvo.demo_data import DEMO_TRAJECTORIES
from kvo.errors import InvalidReference, KvoError, ReservedReference
from kvo.models import Area, AreaKind, ContactArea, Province, Trajectory, TrajectoryKind
from kvo.references import EXAMPLE_REFERENCE, normalize_reference
from kvo.settings import Settings
from kvo.status import Denied, check_status
from kvo.trajectory_admin import check_new_reference

NOW = datetime(2025, 3, 15, 9, 0, tzinfo=UTC)


def _area() -> Area:
    return Area(
        name="Centrum",
        kind=AreaKind.WINKELGEBIED,
        municipality="Breda",
        province=Province.NOORD_BRABANT,
        contact_area=ContactArea.ZEELAND_WEST_BRABANT,
    )


def test_the_example_is_the_one_the_contract_names() -> None:
    assert EXAMPLE_REFERENCE == "KVO-2000-1234"


@pytest.mark.parametrize("typed", ["KVO-2000-1234", "kvo 2000 1234", "status KVO2000-1234 graag"])
def test_the_parser_accepts_the_example(typed: str) -> None:
    assert normalize_reference(typed) == EXAMPLE_REFERENCE


@pytest.mark.parametrize("typed", ["KVO-2000-1234", "kvo 2000 1234", "ＫＶＯ－２０００－１２３４"])
def test_the_domain_refuses_to_create_it(typed: str) -> None:
    with pytest.raises(ReservedReference) as refused:
        check_new_reference(typed)
    assert isinstance(refused.value, KvoError)


def test_other_references_may_be_created() -> None:
    assert check_new_reference("kvo 2025 7") == "KVO-2025-0007"
    with pytest.raises(InvalidReference):
        check_new_reference("geen referentie")


def test_the_model_refuses_it_before_any_sql() -> None:
    with pytest.raises(ReservedReference):
        Trajectory(reference=EXAMPLE_REFERENCE)
    trajectory = Trajectory(reference="KVO-2024-0031")
    with pytest.raises(ReservedReference):
        trajectory.reference = EXAMPLE_REFERENCE


def test_the_database_refuses_it_too(kvo_session: Session) -> None:
    area = _area()
    kvo_session.add(area)
    kvo_session.flush()
    with pytest.raises(IntegrityError):
        kvo_session.execute(
            text(
                "INSERT INTO trajectories (reference, area_id, kind, target_stars,"
                " current_phase, access_code_hash)"
                " VALUES (:reference, :area, 'eerste_certificering', 1, 1, 'hash')"
            ),
            {"reference": EXAMPLE_REFERENCE, "area": area.id},
        )


def test_a_visitor_copying_the_example_gets_the_neutral_answer(
    kvo_session: Session, kvo_settings: Settings
) -> None:
    kvo_session.add(
        Trajectory(
            reference="KVO-2024-0031",
            area=_area(),
            kind=TrajectoryKind.FIRST_CERTIFICATION,
            target_stars=1,
            current_phase=1,
            access_code_hash="not-a-hash",
        )
    )
    kvo_session.flush()
    outcome = check_status(
        kvo_session, EXAMPLE_REFERENCE, "ABCD-EFGH", "visitor", NOW, settings=kvo_settings
    )
    assert outcome == Denied()


def test_demo_and_benchmark_data_never_use_it() -> None:
    assert EXAMPLE_REFERENCE not in {demo.reference for demo in DEMO_TRAJECTORIES}
    assert all(bench_reference(index) != EXAMPLE_REFERENCE for index in range(100_000))


def test_bot_texts_show_only_the_example_reference() -> None:
    """A visitor who copies the example from a bot text must never reach a real trajectory."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    texts = [repo / "domain.yml", *sorted((repo / "data" / "responses").glob("*.yml"))]
    shown = {
        reference
        for path in texts
        for reference in re.findall(r"KVO-\d{4}-\d{4}", path.read_text(encoding="utf-8"))
    }
    assert shown <= {EXAMPLE_REFERENCE}, shown
