"""The FastAPI application: staff API, dashboard, and the website's demo page and widget."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import Response

from api import web
from api.deps import CurrentStaff
from api.errors import install_error_handlers
from api.routers import (
    admin,
    auth,
    dashboard,
    facilitators,
    feedback,
    leads,
    lockouts,
    questions,
    system,
    trajectories,
)
from api.security import CSRF_HEADER, LoginLimiter
from api.settings import ApiSettings, get_api_settings
from kvo.db import make_engine, make_sessionmaker
from kvo.settings import Settings, get_settings

OPENAPI_URL = "/openapi.json"


def _security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def add_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.url.path.startswith(("/dashboard", "/auth", "/leads")):
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response


def _docs(app: FastAPI) -> None:
    """OpenAPI schema and docs behind the staff login (bearer token or dashboard cookie)."""

    @app.get(OPENAPI_URL, include_in_schema=False)
    def openapi_schema(user: CurrentStaff) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(user: CurrentStaff) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=OPENAPI_URL, title="PVO staff API")


def create_app(
    settings: ApiSettings | None = None,
    kvo_settings: Settings | None = None,
    engine: Engine | None = None,
) -> FastAPI:
    settings = settings or get_api_settings()
    kvo_settings = kvo_settings or get_settings()
    engine = engine or make_engine(kvo_settings.database_url, kvo_settings)
    app = FastAPI(
        title="PVO-assistent staff API",
        version="1.0",
        # Served by _docs behind authentication instead.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.api_settings = settings
    app.state.kvo_settings = kvo_settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.login_limiter = LoginLimiter(settings)

    install_error_handlers(app)
    _security_headers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.origins,
        allow_credentials=False,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", CSRF_HEADER],
    )
    for module in (
        system,
        auth,
        leads,
        trajectories,
        facilitators,
        lockouts,
        admin,
        questions,
        feedback,
        dashboard,
        web,
    ):
        app.include_router(module.router)
    _docs(app)
    return app
