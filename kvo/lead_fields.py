"""The details a visitor gives for an intake or a callback, their validation and summary.

The chat collects the answers one by one (kept in an intake draft between turns,
see ``kvo/intake_drafts.py``) under the field names of :class:`LeadFields`, and
hands them over with :meth:`LeadFields.from_draft`. Validation here is the last
word: the booking services never trust a value the chat passed on unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Union

from kvo import municipalities
from kvo.contact_details import (
    MAX_AREA_NAME_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_ORGANISATION_CHARS,
    clean_text,
    format_phone,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from kvo.dutch_dates import format_slot
from kvo.models import AreaKind, ContactArea, LeadKind, LeadRole
from kvo.settings import Settings, get_settings
from kvo.timeutil import ensure_utc

ROLE_LABELS: dict[LeadRole, str] = {
    LeadRole.ONDERNEMER: "ondernemer",
    LeadRole.ONDERNEMERSVERENIGING: "ondernemersvereniging",
    LeadRole.GEMEENTE: "gemeente",
    LeadRole.POLITIE: "politie",
    LeadRole.BRANDWEER: "brandweer",
    LeadRole.PARKMANAGEMENT: "parkmanagement",
    LeadRole.ANDERS: "anders",
}
AREA_KIND_LABELS: dict[AreaKind, str] = {
    AreaKind.WINKELGEBIED: "winkelgebied",
    AreaKind.BEDRIJVENTERREIN: "bedrijventerrein",
    AreaKind.BUITENGEBIED: "buitengebied",
}

# Problems reported by :class:`InvalidFields` (field names, plus these).
PROBLEM_CONTACT = "contact"  # neither a valid e-mail address nor a valid phone number
PROBLEM_OUTSIDE_REGION = "municipality_outside_region"
PROBLEM_CONSENT = "consent"


@dataclass(frozen=True)
class LeadFields:
    """Answers as the visitor gave them (strings); None or "" when not given or skipped.

    Required for an intake: name, email or phone, municipality (in Noord-Brabant or
    Zeeland), area_name, role, consent_at. For a callback: name, email or phone,
    consent_at. The rest is optional.
    """

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    municipality: str | None = None
    area_name: str | None = None
    role: str | None = None
    organisation: str | None = None
    area_kind: str | None = None
    description: str | None = None  # the short description, or the callback question
    consent_at: datetime | None = None  # when the visitor agreed to storing the details

    @classmethod
    def from_draft(cls, draft: Mapping[str, str | None]) -> LeadFields:
        """Build from an intake draft using the same field names (``consent_at`` as ISO text)."""
        values: dict[str, object] = {
            f.name: draft.get(f.name) for f in fields(cls) if f.name != "consent_at"
        }
        consent = draft.get("consent_at")
        try:
            values["consent_at"] = datetime.fromisoformat(consent) if consent else None
        except ValueError:
            values["consent_at"] = None
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ValidLead:
    """Normalised, checked values ready to store."""

    name: str
    email: str | None
    phone: str | None  # E.164
    municipality: str | None
    contact_area: ContactArea | None
    area_name: str | None
    role: LeadRole | None
    organisation: str | None
    area_kind: AreaKind | None
    description: str | None
    consent_at: datetime


@dataclass(frozen=True)
class InvalidFields:
    """Which answers are missing or wrong (field names, or ``contact`` / ``consent`` /
    ``municipality_outside_region``): the chat re-asks those."""

    problems: tuple[str, ...]


LeadValidation = Union[ValidLead, InvalidFields]  # noqa: UP007 - runtime alias


def _given(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def parse_role(text: str | None) -> LeadRole | None:
    """A role from a button payload or typed word ("Ondernemer", "parkmanagement")."""
    wanted = (text or "").strip().lower()
    return next((role for role, label in ROLE_LABELS.items() if label == wanted), None)


def parse_area_kind(text: str | None) -> AreaKind | None:
    wanted = (text or "").strip().lower()
    return next((kind for kind, label in AREA_KIND_LABELS.items() if label == wanted), None)


def validate_lead_fields(
    values: LeadFields, kind: LeadKind, *, settings: Settings | None = None
) -> LeadValidation:
    """Check and normalise the answers for an intake booking or a callback request."""
    settings = settings or get_settings()
    problems: list[str] = []
    intake = kind is LeadKind.INTAKE

    name = normalize_name(values.name)
    if name is None:
        problems.append("name")

    email = normalize_email(values.email) if _given(values.email) else None
    phone = normalize_phone(values.phone) if _given(values.phone) else None
    if _given(values.email) and email is None:
        problems.append("email")
    if _given(values.phone) and phone is None:
        problems.append("phone")
    if not _given(values.email) and not _given(values.phone):
        problems.append(PROBLEM_CONTACT)

    municipality: str | None = None
    contact_area: ContactArea | None = None
    if _given(values.municipality):
        match = municipalities.resolve_municipality(values.municipality, settings=settings)
        if isinstance(match, municipalities.InRegion):
            municipality, contact_area = match.municipality, match.contact_area
        elif isinstance(match, municipalities.OutsideRegion):
            municipality = match.municipality
            if intake:
                problems.append(PROBLEM_OUTSIDE_REGION)
        else:
            problems.append("municipality")
    elif intake:
        problems.append("municipality")

    area_name = clean_text(values.area_name, MAX_AREA_NAME_CHARS) if values.area_name else None
    if (_given(values.area_name) and area_name is None) or (intake and area_name is None):
        problems.append("area_name")

    role = parse_role(values.role) if _given(values.role) else None
    if (_given(values.role) and role is None) or (intake and role is None):
        problems.append("role")

    organisation = None
    if _given(values.organisation):
        organisation = clean_text(values.organisation, MAX_ORGANISATION_CHARS)
        if organisation is None:
            problems.append("organisation")
    area_kind = None
    if _given(values.area_kind):
        area_kind = parse_area_kind(values.area_kind)
        if area_kind is None:
            problems.append("area_kind")
    description = None
    if _given(values.description):
        description = clean_text(values.description, MAX_DESCRIPTION_CHARS)
        if description is None:
            problems.append("description")

    consent_at = None
    if values.consent_at is not None and values.consent_at.tzinfo is not None:
        consent_at = ensure_utc(values.consent_at)
    else:
        problems.append(PROBLEM_CONSENT)

    if problems or name is None or consent_at is None:
        return InvalidFields(tuple(problems))
    return ValidLead(
        name=name,
        email=email,
        phone=phone.e164 if phone else None,
        municipality=municipality,
        contact_area=contact_area,
        area_name=area_name,
        role=role,
        organisation=organisation,
        area_kind=area_kind,
        description=description,
        consent_at=consent_at,
    )


def lead_summary(
    values: LeadFields | ValidLead,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> tuple[tuple[str, str], ...]:
    """Labelled lines (Dutch) of what will be sent to PVO, for the chat's summary before
    confirming and for the mails. Empty answers are left out; the phone number is shown
    in the national format."""
    settings = settings or get_settings()
    if isinstance(values, LeadFields):
        phone = normalize_phone(values.phone) if _given(values.phone) else None
        email = normalize_email(values.email) if _given(values.email) else None
        role = parse_role(values.role) if _given(values.role) else None
        kind = parse_area_kind(values.area_kind) if _given(values.area_kind) else None
        match = (
            municipalities.resolve_municipality(values.municipality, settings=settings)
            if _given(values.municipality)
            else None
        )
        municipality = (
            match.municipality
            if isinstance(match, municipalities.InRegion | municipalities.OutsideRegion)
            else clean_text(values.municipality, 100)
        )
        rows = [
            ("Naam", clean_text(values.name, 200)),
            ("E-mailadres", email or clean_text(values.email, 320)),
            ("Telefoonnummer", phone.national if phone else clean_text(values.phone, 40)),
            ("Organisatie", clean_text(values.organisation, MAX_ORGANISATION_CHARS)),
            ("Uw rol", ROLE_LABELS[role] if role else None),
            ("Gebied", clean_text(values.area_name, MAX_AREA_NAME_CHARS)),
            ("Gemeente", municipality),
            ("Soort gebied", AREA_KIND_LABELS[kind] if kind else None),
            ("Korte omschrijving", clean_text(values.description, MAX_DESCRIPTION_CHARS)),
        ]
    else:
        rows = [
            ("Naam", values.name),
            ("E-mailadres", values.email),
            ("Telefoonnummer", format_phone(values.phone) or None),
            ("Organisatie", values.organisation),
            ("Uw rol", ROLE_LABELS[values.role] if values.role else None),
            ("Gebied", values.area_name),
            ("Gemeente", values.municipality),
            ("Soort gebied", AREA_KIND_LABELS[values.area_kind] if values.area_kind else None),
            ("Korte omschrijving", values.description),
        ]
    if starts_at is not None and ends_at is not None:
        rows.append(("Afspraak", format_slot(starts_at, ends_at, settings.tzinfo)))
    return tuple((label, value) for label, value in rows if value)
