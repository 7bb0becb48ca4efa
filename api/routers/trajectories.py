"""Trajectories: list, detail, create, update, phase changes (dated, with author),
next-step text, and a new access code (shown once, never stored in plain text)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import CurrentStaff, KvoSettingsDep, SessionDep
from api.errors import ApiError
from api.schemas.common import ERROR_RESPONSES, ErrorOut
from api.schemas.trajectories import (
    AccessCodeOut,
    NextStepIn,
    PhaseIn,
    TrajectoryCreatedOut,
    TrajectoryDetailOut,
    TrajectoryIn,
    TrajectoryOut,
    TrajectoryPageOut,
    TrajectoryUpdateIn,
)
from kvo import audit
from kvo.errors import KvoError
from kvo.models import ContactArea
from kvo.trajectory_admin import (
    MAX_TRAJECTORY_PAGE,
    NewTrajectory,
    TrajectoryDetail,
    change_phase,
    create_trajectory,
    get_trajectory,
    list_trajectories,
    rotate_access_code_by_id,
    update_trajectory,
)

router = APIRouter(prefix="/trajectories", tags=["trajectories"], responses=ERROR_RESPONSES)

TrajectoryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CONFLICT = {409: {"model": ErrorOut}}


def _not_found() -> ApiError:
    return ApiError(404, "trajectory_not_found", "Dit traject bestaat niet.")


def _refused(error: KvoError) -> ApiError:
    return ApiError(409, "trajectory_refused", str(error) or "Deze wijziging kan niet.")


def _detail_out(detail: TrajectoryDetail) -> TrajectoryDetailOut:
    return TrajectoryDetailOut(
        trajectory=TrajectoryOut.model_validate(detail.row),
        next_step_owner=detail.next_step_owner,
        survey_response_rate=detail.survey_response_rate,
        survey_required_rate=detail.survey_required_rate,
        schouw_date=detail.schouw_date,
        audit_date=detail.audit_date,
        certificate_issued_on=detail.certificate_issued_on,
        certificate_expires_on=detail.certificate_expires_on,
        phases=[{"phase": p, "started_on": s, "completed_on": c} for p, s, c in detail.phases],
        phase_changes=[c.__dict__ for c in detail.phase_changes],
    )


def _detail(session: object, trajectory_id: int) -> TrajectoryDetailOut:
    detail = get_trajectory(session, trajectory_id)  # type: ignore[arg-type]
    if detail is None:
        raise _not_found()
    return _detail_out(detail)


@router.get("", response_model=TrajectoryPageOut)
def trajectories_list(
    user: CurrentStaff,
    session: SessionDep,
    phase: Annotated[int | None, Query(ge=1, le=5)] = None,
    contact_area: ContactArea | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_TRAJECTORY_PAGE)] = 50,
) -> TrajectoryPageOut:
    result = list_trajectories(
        session, phase=phase, contact_area=contact_area, page=page, page_size=page_size
    )
    return TrajectoryPageOut(
        items=[TrajectoryOut.model_validate(r) for r in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.post("", response_model=TrajectoryCreatedOut, status_code=201, responses=CONFLICT)
def trajectory_create(
    user: CurrentStaff, session: SessionDep, settings: KvoSettingsDep, body: TrajectoryIn
) -> TrajectoryCreatedOut:
    try:
        trajectory_id, code = create_trajectory(
            session, NewTrajectory(**body.model_dump()), settings=settings
        )
    except KvoError as error:
        raise _refused(error) from None
    audit.record(session, user.username, "trajectory.create", f"trajectory:{trajectory_id}")
    return TrajectoryCreatedOut(id=trajectory_id, reference=body.reference, access_code=code)


@router.get("/{trajectory_id}", response_model=TrajectoryDetailOut)
def trajectory_detail(
    user: CurrentStaff, session: SessionDep, trajectory_id: TrajectoryId
) -> TrajectoryDetailOut:
    return _detail(session, trajectory_id)


@router.patch("/{trajectory_id}", response_model=TrajectoryDetailOut, responses=CONFLICT)
def trajectory_update(
    user: CurrentStaff,
    session: SessionDep,
    trajectory_id: TrajectoryId,
    body: TrajectoryUpdateIn,
) -> TrajectoryDetailOut:
    try:
        found = update_trajectory(session, trajectory_id, body.model_dump(exclude_unset=True))
    except KvoError as error:
        raise _refused(error) from None
    if not found:
        raise _not_found()
    return _detail(session, trajectory_id)


@router.post("/{trajectory_id}/phase", response_model=TrajectoryDetailOut, responses=CONFLICT)
def trajectory_phase(
    user: CurrentStaff, session: SessionDep, trajectory_id: TrajectoryId, body: PhaseIn
) -> TrajectoryDetailOut:
    try:
        found = change_phase(session, trajectory_id, body.phase, body.effective_on, user.username)
    except KvoError as error:
        raise _refused(error) from None
    if not found:
        raise _not_found()
    return _detail(session, trajectory_id)


@router.put("/{trajectory_id}/next-step", response_model=TrajectoryDetailOut)
def trajectory_next_step(
    user: CurrentStaff, session: SessionDep, trajectory_id: TrajectoryId, body: NextStepIn
) -> TrajectoryDetailOut:
    if not update_trajectory(session, trajectory_id, body.model_dump()):
        raise _not_found()
    return _detail(session, trajectory_id)


@router.post("/{trajectory_id}/access-code", response_model=AccessCodeOut)
def trajectory_access_code(
    user: CurrentStaff, session: SessionDep, settings: KvoSettingsDep, trajectory_id: TrajectoryId
) -> AccessCodeOut:
    """A new access code; the old one stops working. The code is in this answer only."""
    rotated = rotate_access_code_by_id(session, trajectory_id, settings=settings)
    if rotated is None:
        raise _not_found()
    audit.record(session, user.username, "access_code.rotate", f"trajectory:{trajectory_id}")
    return AccessCodeOut(reference=rotated[0], access_code=rotated[1])
