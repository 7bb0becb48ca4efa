"""Recognise KVO trajectory references (``KVO-YYYY-NNNN``) in free text."""

from __future__ import annotations

import re
import unicodedata

MIN_YEAR, MAX_YEAR = 2000, 2099
MIN_NUMBER, MAX_NUMBER = 1, 9999

# The reference bot texts show as an example. The parser accepts it (a visitor who copies it
# gets the neutral "not found" answer), but the domain never creates it: see
# kvo.trajectory_admin.check_new_reference and the CHECK constraint on trajectories.
EXAMPLE_REFERENCE = "KVO-2000-1234"

# Every quantifier is bounded and the pattern is anchored on the literal "KVO",
# so matching stays linear in the input length (no catastrophic backtracking).
_SEP_CHARS = r"[\s\-_./:#\u2010-\u2015\u2212]"
# Without a separator the number must be the full 4 digits ("KVO20240031"), so
# "KVO 20245 31" is rejected instead of read as number 5.
_REFERENCE_RE = re.compile(
    rf"(?<![0-9A-Za-z])KVO{_SEP_CHARS}{{0,3}}([0-9]{{4}})"
    rf"(?:{_SEP_CHARS}{{1,3}}([0-9]{{1,8}})|([0-9]{{4}}))(?![0-9])",
    re.IGNORECASE,
)


# For callers that need to find (or cut out) a reference inside a longer message.
REFERENCE_PATTERN = _REFERENCE_RE


def format_reference(year: int, number: int) -> str:
    return f"KVO-{year:04d}-{number:04d}"


def normalize_reference(text: str | None) -> str | None:
    """The first valid reference in ``text`` as ``KVO-YYYY-NNNN``, else None.

    Accepts sloppy forms such as ``kvo 2024 31``, ``KVO2024 31`` or
    ``status KVO-2024-0031 graag``; the year must be 2000-2099 and the
    number 1-9999 (leading zeros allowed).
    """
    if not text:
        return None
    # NFKC turns full-width letters and digits into ASCII ones.
    folded = unicodedata.normalize("NFKC", text)
    for match in _REFERENCE_RE.finditer(folded):
        year = int(match.group(1))
        number = int(match.group(2) or match.group(3))
        if MIN_YEAR <= year <= MAX_YEAR and MIN_NUMBER <= number <= MAX_NUMBER:
            return format_reference(year, number)
    return None


def is_reference(text: str) -> bool:
    """True when ``text`` is exactly a canonical reference."""
    return normalize_reference(text) == text
