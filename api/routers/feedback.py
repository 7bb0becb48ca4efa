"""POST /feedback: a visitor's 👍/👎 under a FAQ answer (public).

Only from the configured website origins, limited per client, bound to a chat session id the
engine's channel issued and signed (so nobody can vote without a real chat), for a FAQ topic
that exists in the domain. Nothing of the visitor is stored but a hash of the session id.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.deps import ApiSettingsDep, client_address
from api.errors import ApiError
from api.routers.questions import events_engine
from api.schemas.common import ErrorOut
from api.schemas.questions import FeedbackIn
from api.settings import ApiSettings
from bot.session_ids import is_valid_session_id
from kvo import visitor_questions

router = APIRouter(tags=["feedback"])

MAX_BODY_BYTES = 1024


class FeedbackLimiter:
    """Moving window per client address (hashed with a per-process salt), in process memory."""

    def __init__(self, settings: ApiSettings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._limit = parse(settings.feedback_limit_per_client)
        self._salt = secrets.token_bytes(16)

    def allow(self, client: str) -> bool:
        key = hashlib.sha256(self._salt + client.encode()).hexdigest()
        return self._limiter.hit(self._limit, "feedback", key)


def _limiter(request: Request, settings: ApiSettings) -> FeedbackLimiter:
    limiter = getattr(request.app.state, "feedback_limiter", None)
    if limiter is None:
        limiter = request.app.state.feedback_limiter = FeedbackLimiter(settings)
    return limiter  # type: ignore[no-any-return]


def guard(request: Request, settings: ApiSettingsDep) -> None:
    """Origin, size and rate checks, before the body is even looked at."""
    if request.headers.get("origin") not in settings.origins:
        raise ApiError(403, "origin_refused", "Dit verzoek komt niet van een toegestane website.")
    length = request.headers.get("content-length")
    if length is None or not length.isdigit() or int(length) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", "Verzoek te groot.")
    if not _limiter(request, settings).allow(client_address(request)):
        raise ApiError(429, "rate_limited", "Te veel beoordelingen; probeer het later opnieuw.")


@router.post(
    "/feedback",
    status_code=204,
    response_class=Response,
    responses={
        403: {"model": ErrorOut, "description": "Vreemde herkomst of ongeldige sessie"},
        413: {"model": ErrorOut, "description": "Verzoek te groot"},
        422: {"model": ErrorOut, "description": "Ongeldige invoer of onbekend onderwerp"},
        429: {"model": ErrorOut, "description": "Te veel beoordelingen"},
    },
)
def feedback(
    request: Request,
    body: FeedbackIn,
    settings: ApiSettingsDep,
    _: Annotated[None, Depends(guard)],
) -> Response:
    secret = settings.session_secret.get_secret_value()
    if not secret or not is_valid_session_id(secret, body.session_id):
        raise ApiError(403, "invalid_session", "Deze chatsessie is niet geldig.")
    if body.topic not in visitor_questions.faq_topics():
        raise ApiError(422, "unknown_topic", "Dit onderwerp bestaat niet.")
    visitor_questions.record_feedback(
        events_engine(request), body.session_id, body.topic, body.vote
    )
    return Response(status_code=204)
