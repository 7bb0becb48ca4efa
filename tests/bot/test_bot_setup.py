"""Set-up guards: the Python version checks give instructions instead of a cryptic failure."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import REPO

CHECK = REPO / "bot" / "check_python.sh"


def run_check(version: str, interpreter: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(CHECK), version, interpreter], capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize(("version", "variable"), [("3.10", "PYTHON310"), ("3.12", "PYTHON312")])
def test_missing_python_explains_how_to_install_it(version: str, variable: str) -> None:
    result = run_check(version, "")
    assert result.returncode == 1
    assert f"pyenv install {version}" in result.stderr
    assert f"{variable}=" in result.stderr


def test_wrong_python_version_is_refused() -> None:
    assert run_check("3.10", "/bin/false").returncode == 1
    assert run_check("3.10", sys.executable).returncode == 1  # the tests run on 3.12


def test_the_app_python_is_accepted() -> None:
    assert sys.version_info[:2] == (3, 12)
    assert run_check("3.12", sys.executable).returncode == 0
