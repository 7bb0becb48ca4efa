"""Placeholder: the widget work provides the demo page (/) and /widget/*; its version replaces
this file."""

from fastapi import APIRouter

router = APIRouter()
