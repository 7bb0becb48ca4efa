"""Set-up guards: the Python 3.10 check gives instructions instead of a cryptic failure."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO

CHECK = REPO / "bot" / "check_python310.sh"


def run_check(interpreter: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(CHECK), interpreter], capture_output=True, text=True, timeout=30
    )


def test_missing_python310_explains_how_to_install_it() -> None:
    result = run_check("")
    assert result.returncode == 1
    assert "pyenv install 3.10" in result.stderr
    assert "PYTHON310=" in result.stderr


def test_wrong_python_version_is_refused() -> None:
    assert run_check("/bin/false").returncode == 1


def test_this_python_is_accepted_when_it_is_3_10() -> None:
    expected = 0 if sys.version_info[:2] == (3, 10) else 1
    assert run_check(sys.executable).returncode == expected
