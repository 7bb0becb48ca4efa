"""Expected domain errors that callers turn into clear messages."""

from __future__ import annotations


class KvoError(Exception):
    """Base class for expected, user-explainable errors of the domain layer."""


class InvalidReference(KvoError, ValueError):
    """Input does not contain a reference of the form KVO-YYYY-NNNN."""


class UnknownReference(KvoError, LookupError):
    """No trajectory has this reference."""
