"""One error format for every API failure: ``{"detail": "<Dutch message>", "code": "<snake_code>"}``.

Validation errors keep FastAPI's field list under ``errors`` (locations and types only, never
the input), so a client can point at the field.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kvo.db import StoreUnavailable

logger = logging.getLogger(__name__)

_DEFAULT_CODES = {
    400: ("Ongeldig verzoek.", "bad_request"),
    401: ("Niet ingelogd of sessie verlopen.", "not_authenticated"),
    403: ("Geen toegang.", "forbidden"),
    404: ("Niet gevonden.", "not_found"),
    405: ("Deze methode is hier niet toegestaan.", "method_not_allowed"),
    409: ("Conflict met de huidige toestand.", "conflict"),
    413: ("Verzoek te groot.", "too_large"),
    422: ("Ongeldige invoer.", "validation_error"),
    429: ("Te veel pogingen; probeer het later opnieuw.", "rate_limited"),
    503: ("Dienst tijdelijk niet beschikbaar.", "unavailable"),
}


class ApiError(StarletteHTTPException):
    """An expected failure with a Dutch message and a stable code."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        self.code = code


class LoginRequired(Exception):
    """A dashboard page without a valid session: send the browser to the login page."""


def error_body(status: int, detail: str | None = None, code: str | None = None) -> dict[str, str]:
    default_detail, default_code = _DEFAULT_CODES.get(status, ("Er ging iets mis.", "error"))
    return {"detail": detail or default_detail, "code": code or default_code}


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = getattr(error, "code", None)
    detail = error.detail if isinstance(error, ApiError) else None
    return JSONResponse(
        error_body(error.status_code, detail, code),
        status_code=error.status_code,
        headers=getattr(error, "headers", None),
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    body: dict[str, object] = dict(error_body(422))
    body["errors"] = [
        {"loc": [str(part) for part in item.get("loc", ())], "type": item.get("type", "")}
        for item in error.errors()
    ]
    return JSONResponse(body, status_code=422)


async def _store_unavailable(request: Request, error: Exception) -> JSONResponse:
    logger.warning("api.database_unavailable path=%s", request.url.path)
    return JSONResponse(
        error_body(503, "De database is tijdelijk niet bereikbaar.", "database_unavailable"),
        status_code=503,
    )


async def _login_required(request: Request, error: Exception) -> RedirectResponse:
    return RedirectResponse("/dashboard/login", status_code=303)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    # Only the class name: exception texts can carry input.
    logger.error("api.unexpected_error path=%s error=%s", request.url.path, type(error).__name__)
    return JSONResponse(error_body(500, "Er ging iets mis aan onze kant.", "server_error"), 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(Exception, _unexpected)
