"""Helpers shared by the test packages: paths, the CI rule for required services, reports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ENGINE_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
RASA = REPO / ".venv-rasa" / "bin" / "rasa"
MODEL = REPO / "models" / "pvo-assistent.tar.gz"

# Text blocks tests want shown after the run (e.g. the NLU confusion summary).
REPORTS: list[str] = []


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing; under CI=true a missing prerequisite fails instead."""
    if condition:
        return
    if on_ci():
        pytest.fail(f"required under CI=true: {reason}")
    pytest.skip(reason)


def add_report(text: str) -> None:
    REPORTS.append(text)
