"""Masking visitor messages before staff see them, and the normal form used to group them.

Masks what identifies a person or unlocks a trajectory: e-mail addresses, phone numbers (and
other long digit runs), access codes (XXXX-XXXX), KVO references and intake references (INT-).
Ordinary words are left alone, or staff could not read what visitors ask.
"""

from __future__ import annotations

import re

EMAIL = "<e-mail>"
PHONE = "<telefoonnummer>"
CODE = "<code>"
KVO_REFERENCE = "<KVO-referentie>"
INT_REFERENCE = "<INT-referentie>"

# Every quantifier is bounded, so matching stays linear in the (bounded) message length.
_EMAIL_RE = re.compile(r"[\w.+\-]{1,64}@[\w\-]{1,63}(?:\.[\w\-]{1,63}){1,8}")
_SEP = r"[\s\-_./:#\u2010-\u2015\u2212]"
_INT_RE = re.compile(rf"(?<![0-9A-Za-z])INT{_SEP}{{0,3}}[A-Za-z0-9]{{6}}(?![0-9A-Za-z])", re.I)
_KVO_RE = re.compile(
    rf"(?<![0-9A-Za-z])KVO{_SEP}{{0,3}}[0-9]{{2,4}}(?:{_SEP}{{1,3}}[0-9]{{1,8}})?(?![0-9])", re.I
)
# An access code with its dash (any letters: visitors type them in lower case too), or the eight
# characters run together when they mix letters and digits (plain eight-letter words stay).
_CODE_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:[A-Za-z0-9]{4}[\-\u2010-\u2015\u2212][A-Za-z0-9]{4}"
    r"|(?=[A-Za-z]{0,7}[0-9])(?=[0-9]{0,7}[A-Za-z])[A-Za-z0-9]{8})(?![0-9A-Za-z])"
)
# Phone numbers in any usual notation: at least 9 digits with spaces, dashes, dots or brackets.
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?[0-9](?:[\s\-.()]{0,3}[0-9]){8,16}(?![0-9])")

_PLACEHOLDER_RE = re.compile(r"<[A-Za-z\-]{1,20}>")
_NOT_WORD_RE = re.compile(r"[^\w<>\-]+")
_SPACES_RE = re.compile(r"\s+")


def mask(text: str) -> str:
    """The message with personal details and codes replaced by placeholders."""
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _INT_RE.sub(INT_REFERENCE, text)
    text = _KVO_RE.sub(KVO_REFERENCE, text)
    text = _CODE_RE.sub(CODE, text)
    text = _PHONE_RE.sub(PHONE, text)
    return _SPACES_RE.sub(" ", text).strip()


def normalise(masked: str) -> str:
    """Grouping key: case, punctuation and spacing do not make a different question."""
    placeholders = _PLACEHOLDER_RE.findall(masked)
    out = []
    pieces = _PLACEHOLDER_RE.split(masked)
    for index, piece in enumerate(pieces):
        out.append(_NOT_WORD_RE.sub(" ", piece.casefold()).replace("-", " ").replace("_", " "))
        if index < len(placeholders):
            out.append(f" {placeholders[index].casefold()} ")
    return _SPACES_RE.sub(" ", "".join(out)).strip()
