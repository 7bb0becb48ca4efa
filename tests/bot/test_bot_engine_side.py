"""Engine-loaded code runs under the engine's Python 3.10 with Rasa 3.6 (tests/bot/engine_side_checks.py)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.bot import engine_side_checks
from tests.support import ENGINE_PYTHON, REPO, require

SCRIPT = REPO / "tests" / "bot" / "engine_side_checks.py"


@pytest.fixture(scope="module")
def results() -> dict[str, str]:
    require(ENGINE_PYTHON.exists(), f"the engine environment is missing ({ENGINE_PYTHON})")
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "2"}
    completed = subprocess.run(
        [str(ENGINE_PYTHON), str(SCRIPT)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = re.findall(r"^(PASS|FAIL) (\w+)", completed.stdout, re.MULTILINE)
    outcomes = {name: status for status, name in lines}
    outcomes["_output"] = completed.stdout[-4000:] + completed.stderr[-4000:]
    return outcomes


@pytest.mark.parametrize("name", list(engine_side_checks.CHECKS))
def test_engine_side(results: dict[str, str], name: str) -> None:
    assert results.get(name) == "PASS", results["_output"]
