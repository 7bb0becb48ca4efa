"""Prints the reports tests collected (e.g. the NLU confusion summary) after the run."""

from __future__ import annotations

import pytest

from tests.support import REPORTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for report in REPORTS:
        terminalreporter.write_sep("=", "report")
        terminalreporter.write_line(report)
