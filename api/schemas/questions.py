"""Schemas of "What visitors ask" and of the visitors' 👍/👎 feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.schemas.common import In, Out
from bot.session_ids import MAX_SESSION_ID_CHARS

Outcome = Literal["clarification", "out_of_scope", "handoff"]
WEEK_PATTERN = r"^[0-9]{4}-W[0-9]{2}$"


class QuestionOut(Out):
    week: str = Field(description="ISO week, e.g. 2026-W48")
    outcome: Outcome
    text: str = Field(description="The message, masked; the most frequent spelling of the group")
    count: int
    topic: str | None = Field(description="The topic the assistant guessed most often")
    first_seen: datetime
    last_seen: datetime


class QuestionPageOut(Out):
    items: list[QuestionOut]
    total: int
    page: int
    page_size: int


class WeekStatsOut(Out):
    week: str
    conversations: int
    unanswered: int
    clarification: int
    out_of_scope: int
    handoff: int
    feedback_up: int
    feedback_down: int


class TopicFeedbackOut(Out):
    topic: str
    up: int
    down: int


class QuestionStatsOut(Out):
    weeks: list[WeekStatsOut]
    feedback_by_topic: list[TopicFeedbackOut]


class FeedbackIn(In):
    session_id: str = Field(min_length=1, max_length=MAX_SESSION_ID_CHARS)
    topic: str = Field(min_length=5, max_length=80, pattern=r"^faq/[a-z0-9_]{1,76}$")
    vote: Literal["up", "down"]
