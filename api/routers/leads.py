"""Leads (intake bookings and callback requests): list, detail, status, notes, facilitator,
CSV export and erasure (admin). Every view, export and erasure goes into the audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from api.deps import AdminUser, CurrentStaff, KvoSettingsDep, SessionDep
from api.errors import ApiError
from api.schemas.common import ERROR_RESPONSES, ErrorOut
from api.schemas.leads import (
    ErasedOut,
    LeadDetailOut,
    LeadOut,
    LeadPageOut,
    NoteIn,
    NoteOut,
    ReassignIn,
    ReassignOut,
    StatusIn,
    StatusOut,
)
from kvo import audit, retention
from kvo.lead_notes import add_note, list_notes
from kvo.leads import (
    MAX_PAGE_SIZE,
    LeadNotFound,
    LeadQuery,
    ReassignRefused,
    TransitionRefused,
    change_status,
    erase_lead_personal_data,
    export_leads,
    get_lead,
    list_leads,
    reassign_facilitator,
)
from kvo.models import AreaKind, ContactArea, LeadKind, LeadStatus

router = APIRouter(prefix="/leads", tags=["leads"], responses=ERROR_RESPONSES)

LeadId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SortField = Literal[
    "created_at", "slot_start", "status", "kind", "contact_area", "municipality", "reference"
]
MAX_FILTER_VALUES = 10


def lead_query(
    status: Annotated[list[LeadStatus], Query(max_length=MAX_FILTER_VALUES)] = [],  # noqa: B006
    kind: Annotated[list[LeadKind], Query(max_length=MAX_FILTER_VALUES)] = [],  # noqa: B006
    contact_area: Annotated[list[ContactArea], Query(max_length=MAX_FILTER_VALUES)] = [],  # noqa: B006
    area_kind: Annotated[list[AreaKind], Query(max_length=MAX_FILTER_VALUES)] = [],  # noqa: B006
    created_from: Annotated[date | None, Query()] = None,
    created_to: Annotated[date | None, Query()] = None,
    sort: SortField = "created_at",
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> LeadQuery:
    if created_from and created_to and created_to < created_from:
        raise ApiError(422, "invalid_date_range", "De einddatum ligt voor de begindatum.")
    return LeadQuery(
        statuses=tuple(status),
        kinds=tuple(kind),
        contact_areas=tuple(contact_area),
        area_kinds=tuple(area_kind),
        created_from=created_from,
        created_to=created_to,
        sort=sort,
        descending=order == "desc",
        page=page,
        page_size=page_size,
    )


QueryDep = Annotated[LeadQuery, Depends(lead_query)]

REASSIGN_MESSAGES = {
    "geen_afspraak": "Deze lead heeft geen geplande afspraak.",
    "onbekende_begeleider": "Onbekende of inactieve procesbegeleider.",
    "ander_contactgebied": "Deze procesbegeleider werkt in een ander contactgebied.",
    "bezet": "De procesbegeleider is op dat moment niet beschikbaar.",
}


def _not_found() -> ApiError:
    return ApiError(404, "lead_not_found", "Deze lead bestaat niet.")


@router.get("", response_model=LeadPageOut)
def leads_list(
    user: CurrentStaff, session: SessionDep, settings: KvoSettingsDep, query: QueryDep
) -> LeadPageOut:
    page = list_leads(session, query, settings=settings)
    audit.record(session, user.username, "leads.list", f"page:{page.page}")
    return LeadPageOut(
        items=[LeadOut.model_validate(row) for row in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
    )


@router.get(
    "/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV"}},
)
def leads_export(
    user: AdminUser, session: SessionDep, settings: KvoSettingsDep, query: QueryDep
) -> Response:
    """All leads matching the filters (paging ignored), as CSV. Admins only."""
    body = export_leads(session, query, settings=settings)
    audit.record(session, user.username, "leads.export", "leads")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="leads.csv"'},
    )


@router.get("/{lead_id}", response_model=LeadDetailOut)
def lead_detail(user: CurrentStaff, session: SessionDep, lead_id: LeadId) -> LeadDetailOut:
    detail = get_lead(session, lead_id)
    if detail is None:
        raise _not_found()
    audit.record(session, user.username, "lead.view", f"lead:{lead_id}")
    return LeadDetailOut(
        lead=LeadOut.model_validate(detail.row),
        email=detail.email,
        phone=detail.phone,
        phone_display=detail.phone_display,
        description=detail.description,
        consent_at=detail.consent_at,
        facilitator_id=detail.facilitator_id,
        facilitator_email=detail.facilitator_email,
        updated_at=detail.updated_at,
        erased_at=detail.erased_at,
        allowed_statuses=list(detail.allowed_statuses),
        events=[e.__dict__ for e in detail.events],
        deliveries=[d.__dict__ for d in detail.deliveries],
        notes=[NoteOut.model_validate(n) for n in list_notes(session, lead_id)],
    )


@router.post("/{lead_id}/status", response_model=StatusOut, responses={409: {"model": ErrorOut}})
def lead_status(
    user: CurrentStaff,
    session: SessionDep,
    settings: KvoSettingsDep,
    lead_id: LeadId,
    body: StatusIn,
) -> StatusOut:
    outcome = change_status(session, lead_id, body.status, user.username, settings=settings)
    if isinstance(outcome, LeadNotFound):
        raise _not_found()
    if isinstance(outcome, TransitionRefused):
        allowed = ", ".join(outcome.allowed) or "geen"
        raise ApiError(
            409,
            "transition_refused",
            f"Van {outcome.current} naar {outcome.wanted} mag niet; wel: {allowed}.",
        )
    return StatusOut.model_validate(outcome)


@router.post("/{lead_id}/notes", response_model=NoteOut, status_code=201)
def lead_note(user: CurrentStaff, session: SessionDep, lead_id: LeadId, body: NoteIn) -> NoteOut:
    note = add_note(session, lead_id, user.username, body.text)
    if note is None:
        raise _not_found()
    return NoteOut.model_validate(note)


@router.post(
    "/{lead_id}/facilitator", response_model=ReassignOut, responses={409: {"model": ErrorOut}}
)
def lead_reassign(
    user: CurrentStaff, session: SessionDep, lead_id: LeadId, body: ReassignIn
) -> ReassignOut:
    outcome = reassign_facilitator(session, lead_id, body.facilitator_id, user.username)
    if isinstance(outcome, LeadNotFound):
        raise _not_found()
    if isinstance(outcome, ReassignRefused):
        raise ApiError(409, outcome.reason, REASSIGN_MESSAGES[outcome.reason])
    return ReassignOut.model_validate(outcome)


@router.delete("/{lead_id}/personal-data", response_model=ErasedOut)
def lead_erase(
    user: AdminUser, session: SessionDep, settings: KvoSettingsDep, lead_id: LeadId
) -> ErasedOut:
    """Erase a lead's personal data (AVG request) and its conversation. Admins only."""
    outcome = erase_lead_personal_data(session, lead_id, user.username, settings=settings)
    if isinstance(outcome, LeadNotFound):
        raise _not_found()
    purged: bool | None = None
    if outcome.conversation_id:
        # Before the commit: if the stores cannot be reached, nothing is erased and the
        # request can be repeated (the conversation id is still known then).
        purged = retention.purge_conversation_everywhere(
            outcome.conversation_id, settings.tracker_db_url, settings.events_db_url
        )
    audit.record(session, user.username, "lead.erase", f"lead:{lead_id}")
    return ErasedOut(lead_id=lead_id, already=outcome.already, conversation_purged=purged)
