"""Expected domain errors that callers turn into clear messages."""

from __future__ import annotations


class KvoError(Exception):
    """Base class for expected, user-explainable errors of the domain layer."""


class InvalidReference(KvoError, ValueError):
    """Input does not contain a reference of the form KVO-YYYY-NNNN."""


class UnknownReference(KvoError, LookupError):
    """No trajectory has this reference."""


class ReservedReference(KvoError, ValueError):
    """The reference is the example shown in bot texts; no trajectory may have it."""


class NotADemoDatabase(KvoError):
    """Demo or benchmark data were asked for in a database not marked as a demo database."""


class RealDataPresent(KvoError):
    """The database holds data that no demo or benchmark loader made; it is not marked as demo."""

    def __init__(self, rows: int) -> None:
        super().__init__(rows)
        self.rows = rows
