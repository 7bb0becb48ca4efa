"""Certificate validity as the assistant reports it."""

from __future__ import annotations

from datetime import date
from typing import Literal

from kvo.timeutil import add_months

CertificateState = Literal["geldig", "verloopt_binnenkort", "verlopen"]

# "Expires soon" means within this many calendar months from today.
EXPIRY_WARNING_MONTHS = 6


def certificate_state(expires_on: date | None, today: date) -> CertificateState | None:
    """``verlopen`` after the expiry date, ``verloopt_binnenkort`` up to and including
    six months ahead, ``geldig`` beyond that, None without a certificate.

    The expiry date itself still counts as valid (the certificate runs through that day).
    """
    if expires_on is None:
        return None
    if expires_on < today:
        return "verlopen"
    if expires_on <= add_months(today, EXPIRY_WARNING_MONTHS):
        return "verloopt_binnenkort"
    return "geldig"
