"""Placeholder: the event-broker work provides this router; its version replaces this file."""

from fastapi import APIRouter

router = APIRouter()
