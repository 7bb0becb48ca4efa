"""What visitors ask: unanswered messages (masked, grouped per week), weekly figures for the
dashboard chart, and an export in Rasa's NLU training-data format (admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from api.deps import AdminUser, CurrentStaff, KvoSettingsDep, SessionDep
from api.errors import ApiError
from api.schemas.common import ERROR_RESPONSES
from api.schemas.questions import (
    WEEK_PATTERN,
    Outcome,
    QuestionOut,
    QuestionPageOut,
    QuestionStatsOut,
    TopicFeedbackOut,
    WeekStatsOut,
)
from kvo import audit, visitor_questions

router = APIRouter(prefix="/questions", tags=["questions"])

Week = Annotated[str | None, Query(pattern=WEEK_PATTERN, description="ISO week, e.g. 2026-W48")]


def events_engine(request: Request) -> Engine:
    """The events database of this app's settings (EVENTS_DB_URL, else the broker's default
    file), made on first use and kept on the app; tests may put their own there."""
    engine = getattr(request.app.state, "events_engine", None)
    if engine is None:
        url = visitor_questions.events_url(request.app.state.kvo_settings)
        engine = request.app.state.events_engine = visitor_questions.events_engine(url)
    return engine  # type: ignore[no-any-return]


def unanswered(
    request: Request, settings: KvoSettingsDep, week: str | None, outcome: str | None
) -> list[visitor_questions.QuestionGroup]:
    try:
        return visitor_questions.unanswered_groups(
            events_engine(request), week=week, outcome=outcome, tz=settings.tzinfo
        )
    except ValueError:
        raise ApiError(422, "invalid_week", "Deze week bestaat niet.") from None


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def question_out(group: visitor_questions.QuestionGroup) -> QuestionOut:
    return QuestionOut(
        week=group.week,
        outcome=group.outcome,  # type: ignore[arg-type]
        text=group.text,
        count=group.count,
        topic=group.topic,
        first_seen=_moment(group.first_seen),
        last_seen=_moment(group.last_seen),
    )


@router.get("", response_model=QuestionPageOut, responses=ERROR_RESPONSES)
def list_questions(
    request: Request,
    user: CurrentStaff,
    session: SessionDep,
    settings: KvoSettingsDep,
    week: Week = None,
    outcome: Outcome | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QuestionPageOut:
    groups = unanswered(request, settings, week, outcome)
    start = (page - 1) * page_size
    audit.record(session, user.username, "questions.list", f"week:{week or 'all'}")
    return QuestionPageOut(
        items=[question_out(g) for g in groups[start : start + page_size]],
        total=len(groups),
        page=page,
        page_size=page_size,
    )


@router.get(
    "/export",
    response_class=Response,
    responses={
        **ERROR_RESPONSES,
        200: {"content": {"application/yaml": {}}, "description": "Rasa NLU YAML"},
    },
)
def export_questions(
    request: Request,
    user: AdminUser,
    session: SessionDep,
    settings: KvoSettingsDep,
    week: Week = None,
    outcome: Outcome | None = None,
) -> Response:
    """The unanswered messages as Rasa NLU training data (intent `unlabeled`, grouped by the
    guessed topic), for staff to sort into intents."""
    text = visitor_questions.export_nlu_yaml(unanswered(request, settings, week, outcome))
    audit.record(session, user.username, "questions.export", f"week:{week or 'all'}")
    name = f"vragen-{week or 'alle'}.yml"
    return Response(
        text,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def question_stats(request: Request, settings: KvoSettingsDep, weeks: int) -> QuestionStatsOut:
    stats, feedback = visitor_questions.weekly_stats(
        events_engine(request), weeks=weeks, tz=settings.tzinfo
    )
    return QuestionStatsOut(
        weeks=[
            WeekStatsOut(
                week=w.week,
                conversations=w.conversations,
                unanswered=w.unanswered,
                feedback_up=w.feedback_up,
                feedback_down=w.feedback_down,
                **w.by_outcome,
            )
            for w in stats
        ],
        feedback_by_topic=[
            TopicFeedbackOut(topic=topic, up=votes["up"], down=votes["down"])
            for topic, votes in sorted(feedback.items())
        ],
    )


@router.get("/stats", response_model=QuestionStatsOut, responses=ERROR_RESPONSES)
def stats(
    request: Request,
    user: CurrentStaff,
    settings: KvoSettingsDep,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
) -> QuestionStatsOut:
    """Per week: conversations, unanswered messages (per outcome) and 👍/👎; kept beyond the
    raw-event retention."""
    return question_stats(request, settings, weeks)
