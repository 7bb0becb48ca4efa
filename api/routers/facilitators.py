"""Process facilitators and their availability: list, create, update, block periods."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.deps import CurrentStaff, SessionDep
from api.errors import ApiError
from api.schemas.common import ERROR_RESPONSES, ErrorOut
from api.schemas.facilitators import (
    BlockIn,
    BlockOut,
    FacilitatorIn,
    FacilitatorOut,
    FacilitatorUpdateIn,
    RuleIO,
)
from kvo.availability import WeeklyRule
from kvo.facilitator_admin import (
    FacilitatorError,
    FacilitatorRecord,
    block_period,
    create_facilitator,
    get_facilitator,
    list_facilitators,
    remove_block,
    update_facilitator,
)

router = APIRouter(prefix="/facilitators", tags=["facilitators"], responses=ERROR_RESPONSES)

ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CONFLICT = {409: {"model": ErrorOut}}


def _not_found() -> ApiError:
    return ApiError(404, "facilitator_not_found", "Deze procesbegeleider bestaat niet.")


def _refused(error: FacilitatorError) -> ApiError:
    return ApiError(409, "facilitator_refused", str(error))


def _rules(rules: list[RuleIO] | None) -> list[WeeklyRule] | None:
    if rules is None:
        return None
    return [WeeklyRule(r.weekday, r.start_time, r.end_time, r.slot_minutes) for r in rules]


def _out(record: FacilitatorRecord) -> FacilitatorOut:
    return FacilitatorOut.model_validate(record)


@router.get("", response_model=list[FacilitatorOut])
def facilitators_list(user: CurrentStaff, session: SessionDep) -> list[FacilitatorOut]:
    return [_out(r) for r in list_facilitators(session)]


@router.post("", response_model=FacilitatorOut, status_code=201, responses=CONFLICT)
def facilitator_create(
    user: CurrentStaff, session: SessionDep, body: FacilitatorIn
) -> FacilitatorOut:
    try:
        record = create_facilitator(
            session, body.name, str(body.email), body.contact_area, _rules(body.rules), body.active
        )
    except FacilitatorError as error:
        raise _refused(error) from None
    return _out(record)


@router.get("/{facilitator_id}", response_model=FacilitatorOut)
def facilitator_detail(
    user: CurrentStaff, session: SessionDep, facilitator_id: ObjectId
) -> FacilitatorOut:
    record = get_facilitator(session, facilitator_id)
    if record is None:
        raise _not_found()
    return _out(record)


@router.patch("/{facilitator_id}", response_model=FacilitatorOut, responses=CONFLICT)
def facilitator_update(
    user: CurrentStaff, session: SessionDep, facilitator_id: ObjectId, body: FacilitatorUpdateIn
) -> FacilitatorOut:
    try:
        record = update_facilitator(
            session,
            facilitator_id,
            name=body.name,
            email=str(body.email) if body.email is not None else None,
            contact_area=body.contact_area,
            active=body.active,
            rules=_rules(body.rules),
        )
    except FacilitatorError as error:
        raise _refused(error) from None
    if record is None:
        raise _not_found()
    return _out(record)


@router.post(
    "/{facilitator_id}/blocks", response_model=BlockOut, status_code=201, responses=CONFLICT
)
def facilitator_block(
    user: CurrentStaff, session: SessionDep, facilitator_id: ObjectId, body: BlockIn
) -> BlockOut:
    try:
        block = block_period(session, facilitator_id, body.starts_at, body.ends_at, body.reason)
    except FacilitatorError as error:
        raise _refused(error) from None
    if block is None:
        raise _not_found()
    return BlockOut.model_validate(block)


@router.delete("/{facilitator_id}/blocks/{block_id}", status_code=204)
def facilitator_unblock(
    user: CurrentStaff, session: SessionDep, facilitator_id: ObjectId, block_id: ObjectId
) -> Response:
    if not remove_block(session, facilitator_id, block_id):
        raise ApiError(404, "block_not_found", "Deze blokkade bestaat niet.")
    return Response(status_code=204)
