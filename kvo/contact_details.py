"""Validate and normalise what a visitor gives as name, e-mail address and phone number.

E-mail: syntax only (``email-validator`` without DNS: no network in the chat path).
Phone: ``phonenumbers`` with NL as the default region; stored as E.164
(+31612345678), shown in the national format (06 12345678).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_NAME_CHARS = 200
MAX_ORGANISATION_CHARS = 200
MAX_AREA_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 1000
_MAX_INPUT_CHARS = 2000  # longer input is refused before any parsing


@dataclass(frozen=True)
class Phone:
    e164: str  # +31612345678: what is stored
    national: str  # 06 12345678: what is shown


def clean_text(text: str | None, max_chars: int) -> str | None:
    """Trimmed single-line text without control characters, or None when empty or too long."""
    if text is None or len(text) > _MAX_INPUT_CHARS:
        return None
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text or len(text) > max_chars:
        return None
    return text


def normalize_name(text: str | None) -> str | None:
    """A person's name as typed (trimmed), or None when it cannot be one."""
    name = clean_text(text, MAX_NAME_CHARS)
    # A name has at least one letter; "123" or "?!" is not an answer to "wat is uw naam?".
    if name is None or not any(ch.isalpha() for ch in name):
        return None
    return name


def normalize_email(text: str | None) -> str | None:
    """The address in lower case when its syntax is valid, else None."""
    candidate = clean_text(text, 320)
    if candidate is None:
        return None
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    # Lower case: addresses are matched for cancel/move and limits; providers ignore case.
    return result.normalized.lower()


def normalize_phone(text: str | None, region: str = "NL") -> Phone | None:
    """A valid phone number (Dutch by default, foreign with +country code), else None."""
    candidate = clean_text(text, 40)
    if candidate is None:
        return None
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        national=format_phone(
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        ),
    )


def format_phone(e164: str | None) -> str:
    """National format for Dutch numbers (06 12345678), international for others."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 31
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
