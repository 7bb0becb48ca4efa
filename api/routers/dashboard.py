"""The staff dashboard: server-rendered pages behind a cookie login.

The session cookie is HttpOnly and SameSite=Strict; every form carries the session's CSRF
token. Templates escape all values (Jinja autoescape), so visitor text shows as text.
Messages after a redirect are fixed texts chosen by a code, never echoed input.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, tzinfo
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import ApiSettingsDep, DashboardStaff, KvoSettingsDep, SessionDep
from api.errors import ApiError
from api.routers import questions
from api.routers.auth import login
from api.schemas.questions import WEEK_PATTERN, Outcome
from api.security import SESSION_COOKIE, issue_token, read_token
from kvo import audit
from kvo.errors import KvoError
from kvo.lead_notes import MAX_NOTE_CHARS, add_note, list_notes
from kvo.lead_stats import leads_per_week
from kvo.lead_status import LABELS
from kvo.leads import (
    LeadNotFound,
    LeadQuery,
    TransitionRefused,
    change_status,
    get_lead,
    list_leads,
)
from kvo.models import LeadKind, LeadStatus
from kvo.phases import PHASE_NAMES
from kvo.settings import REPO_ROOT
from kvo.trajectory_admin import change_phase, get_trajectory, list_trajectories
from kvo.users import StaffUser

router = APIRouter(prefix="/dashboard", include_in_schema=False)
templates = Jinja2Templates(directory=REPO_ROOT / "templates")


def _local(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%d-%m-%Y %H:%M") if moment else "—"


templates.env.filters["local"] = _local
CSS = (REPO_ROOT / "templates" / "dashboard" / "dashboard.css").read_text(encoding="utf-8")

ObjectId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PAGE_SIZE = 25
OUTCOME_LABELS = {
    "clarification": "Verduidelijking gevraagd",
    "out_of_scope": "Buiten het onderwerp",
    "handoff": "Doorverwezen naar een medewerker",
}
MESSAGES = {
    "status": "De status is gewijzigd.",
    "note": "De notitie is opgeslagen.",
    "phase": "De fase is gewijzigd.",
    "refused": "Deze wijziging is niet toegestaan.",
    "invalid": "De invoer is niet geldig.",
}


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    user: StaffUser | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    message = MESSAGES.get(request.query_params.get("msg", ""))
    response = templates.TemplateResponse(
        request,
        name,
        {
            **context,
            "user": user,
            "csrf": getattr(request.state, "csrf", None),
            "css": CSS,
            "nonce": nonce,
            "message": message,
            "status_labels": {s.value: LABELS[s] for s in LeadStatus},
            "tz": request.app.state.kvo_settings.tzinfo,
        },
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return response


def _back(url: str, message: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?msg={message}", status_code=303)


# --- login ---------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, settings: ApiSettingsDep) -> Response:
    if read_token(request.cookies.get(SESSION_COOKIE, ""), settings, "session"):
        return RedirectResponse("/dashboard/leads", status_code=303)
    # 401: the page is there because nobody is logged in (nothing else is public here).
    return _render(request, "dashboard/login.html", {"error": None}, status_code=401)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    settings: ApiSettingsDep,
    kvo_settings: KvoSettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    try:
        user = login(request, session, kvo_settings, username, password)
    except ApiError as error:
        return _render(
            request, "dashboard/login.html", {"error": error.detail}, status_code=error.status_code
        )
    token, seconds, _ = issue_token(user, settings, kind="session")
    response = RedirectResponse("/dashboard/leads", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=seconds,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


@router.post("/logout")
def logout(user: DashboardStaff) -> Response:
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


# --- leads ---------------------------------------------------------------------------


def _chart(weeks: list[tuple[date, int]]) -> dict[str, Any]:
    """Bar geometry for the inline SVG: no script, no framework."""
    top = max((count for _, count in weeks), default=0) or 1
    width, height, gap = 24, 100, 6
    bars = [
        {
            "x": i * (width + gap),
            "height": round(count / top * height),
            "y": height - round(count / top * height),
            "count": count,
            "label": monday.strftime("%d-%m"),
        }
        for i, (monday, count) in enumerate(weeks)
    ]
    return {"bars": bars, "width": len(weeks) * (width + gap), "height": height, "bar": width}


@router.get("", response_class=HTMLResponse)
def home(user: DashboardStaff) -> Response:
    return RedirectResponse("/dashboard/leads", status_code=303)


@router.get("/leads", response_class=HTMLResponse)
def leads_page(
    request: Request,
    user: DashboardStaff,
    session: SessionDep,
    settings: KvoSettingsDep,
    status: LeadStatus | None = None,
    kind: LeadKind | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    new = list_leads(
        session, LeadQuery(statuses=(LeadStatus.NIEUW,), page_size=PAGE_SIZE), settings=settings
    )
    listed = list_leads(
        session,
        LeadQuery(
            statuses=(status,) if status else (),
            kinds=(kind,) if kind else (),
            page=page,
            page_size=PAGE_SIZE,
        ),
        settings=settings,
    )
    audit.record(session, user.username, "leads.list", f"dashboard:page:{page}")
    return _render(
        request,
        "dashboard/leads.html",
        {
            "new": new,
            "listed": listed,
            "status": status.value if status else "",
            "kind": kind.value if kind else "",
            "kinds": [k.value for k in LeadKind],
            "pages": max(1, -(-listed.total // PAGE_SIZE)),
            "chart": _chart(leads_per_week(session, 12, settings=settings)),
        },
        user,
    )


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
def lead_page(
    request: Request,
    user: DashboardStaff,
    session: SessionDep,
    settings: KvoSettingsDep,
    lead_id: ObjectId,
) -> Response:
    detail = get_lead(session, lead_id)
    if detail is None:
        raise ApiError(404, "lead_not_found", "Deze lead bestaat niet.")
    audit.record(session, user.username, "lead.view", f"lead:{lead_id}")
    return _render(
        request,
        "dashboard/lead.html",
        {
            "lead": detail,
            "notes": list_notes(session, lead_id),
            "max_note": MAX_NOTE_CHARS,
        },
        user,
    )


@router.post("/leads/{lead_id}/status")
def lead_status_submit(
    user: DashboardStaff,
    session: SessionDep,
    settings: KvoSettingsDep,
    lead_id: ObjectId,
    status: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    url = f"/dashboard/leads/{lead_id}"
    try:
        wanted = LeadStatus(status)
    except ValueError:
        return _back(url, "invalid")
    outcome = change_status(session, lead_id, wanted, user.username, settings=settings)
    if isinstance(outcome, LeadNotFound):
        raise ApiError(404, "lead_not_found", "Deze lead bestaat niet.")
    if isinstance(outcome, TransitionRefused):
        return _back(url, "refused")
    return _back(url, "status")


@router.post("/leads/{lead_id}/notes")
def lead_note_submit(
    user: DashboardStaff,
    session: SessionDep,
    lead_id: ObjectId,
    text: Annotated[str, Form(max_length=MAX_NOTE_CHARS)] = "",
) -> Response:
    url = f"/dashboard/leads/{lead_id}"
    try:
        note = add_note(session, lead_id, user.username, text)
    except ValueError:
        return _back(url, "invalid")
    if note is None:
        raise ApiError(404, "lead_not_found", "Deze lead bestaat niet.")
    return _back(url, "note")


# --- trajectories ------------------------------------------------------------------------


@router.get("/trajectories", response_class=HTMLResponse)
def trajectories_page(
    request: Request,
    user: DashboardStaff,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    result = list_trajectories(session, page=page, page_size=PAGE_SIZE)
    return _render(
        request,
        "dashboard/trajectories.html",
        {"result": result, "pages": max(1, -(-result.total // PAGE_SIZE))},
        user,
    )


@router.get("/trajectories/{trajectory_id}", response_class=HTMLResponse)
def trajectory_page(
    request: Request, user: DashboardStaff, session: SessionDep, trajectory_id: ObjectId
) -> Response:
    detail = get_trajectory(session, trajectory_id)
    if detail is None:
        raise ApiError(404, "trajectory_not_found", "Dit traject bestaat niet.")
    return _render(
        request,
        "dashboard/trajectory.html",
        {"t": detail, "phase_names": PHASE_NAMES, "today": date.today().isoformat()},
        user,
    )


@router.post("/trajectories/{trajectory_id}/phase")
def trajectory_phase_submit(
    user: DashboardStaff,
    session: SessionDep,
    trajectory_id: ObjectId,
    phase: Annotated[int, Form(ge=1, le=5)],
    effective_on: Annotated[date, Form()],
) -> Response:
    url = f"/dashboard/trajectories/{trajectory_id}"
    try:
        found = change_phase(session, trajectory_id, phase, effective_on, user.username)
    except KvoError:
        return _back(url, "refused")
    if not found:
        raise ApiError(404, "trajectory_not_found", "Dit traject bestaat niet.")
    return _back(url, "phase")


@router.get("/questions", response_class=HTMLResponse)
def questions_page(
    request: Request,
    user: DashboardStaff,
    session: SessionDep,
    settings: KvoSettingsDep,
    week: Annotated[str | None, Query(pattern=WEEK_PATTERN)] = None,
    outcome: Outcome | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Unanswered visitor messages (masked) per week, with the weekly chart and feedback."""
    groups = questions.unanswered(request, settings, week, outcome)
    stats = questions.question_stats(request, settings, 12)
    top = max((w.conversations for w in stats.weeks), default=0) or 1
    chart = [
        {
            "week": w.week,
            "conversations": w.conversations,
            "unanswered": w.unanswered,
            "x": i * 40,
            "conv_height": round(w.conversations / top * 100),
            "unans_height": round(w.unanswered / top * 100),
        }
        for i, w in enumerate(stats.weeks)
    ]
    audit.record(session, user.username, "questions.list", f"dashboard:week:{week or 'all'}")
    start = (page - 1) * PAGE_SIZE
    return _render(
        request,
        "dashboard/questions.html",
        {
            "groups": groups[start : start + PAGE_SIZE],
            "total": len(groups),
            "page": page,
            "pages": max(1, -(-len(groups) // PAGE_SIZE)),
            "week": week or "",
            "outcome": outcome or "",
            "weeks": [w.week for w in reversed(stats.weeks)],
            "outcome_labels": OUTCOME_LABELS,
            "chart": chart,
            "stats": stats,
        },
        user,
    )
