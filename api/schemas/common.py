from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    """Response models read plain values from the domain's dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    """Request bodies: unknown fields are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    detail: str
    code: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "Niet ingelogd"},
    403: {"model": ErrorOut, "description": "Geen toegang"},
    422: {"model": ErrorOut, "description": "Ongeldige invoer"},
}
