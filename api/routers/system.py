"""/health (public: up or down, nothing else) and /ready (operators: each dependency)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import ApiSettingsDep, CurrentStaff, SessionDep
from api.schemas.admin import HealthOut, ReadyOut

router = APIRouter(tags=["system"])


def _database_ok(session: Session) -> bool:
    try:
        session.execute(text("SELECT 1"))
    except Exception:  # any failure means "down"
        return False
    return True


def _http_ok(url: str, timeout: float) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(session: SessionDep) -> JSONResponse:
    up = _database_ok(session)
    return JSONResponse({"status": "up" if up else "down"}, status_code=200 if up else 503)


@router.get("/ready", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def ready(user: CurrentStaff, session: SessionDep, settings: ApiSettingsDep) -> JSONResponse:
    timeout = settings.ready_timeout_seconds
    checks = {
        "database": _database_ok(session),
        # The engine's HTTP API is closed; its channel port answers "/" with a hello.
        "engine": _http_ok(f"{settings.engine_url.rstrip('/')}/", timeout),
        "actions": _http_ok(f"{settings.actions_url.rstrip('/')}/health", timeout),
    }
    body = {name: "ok" if ok else "down" for name, ok in checks.items()}
    all_ok = all(checks.values())
    body["status"] = "ok" if all_ok else "degraded"
    return JSONResponse(body, status_code=200 if all_ok else 503)
