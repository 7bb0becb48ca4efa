"""The one life cycle of a lead, shared by the chat, the CLI and the staff API.

    nieuw -> in behandeling -> gepland -> afgerond | afgewezen | geannuleerd

A callback request starts as "nieuw"; an intake booked in the chat already has
its date and starts as "gepland". A lead can be rejected or cancelled from every
open status; "in behandeling" may end as "afgerond" without an intake (e.g. a
callback that answered the question). The last three are final.
"""

from __future__ import annotations

from kvo.models import LeadKind, LeadStatus

NIEUW = LeadStatus.NIEUW
IN_BEHANDELING = LeadStatus.IN_BEHANDELING
GEPLAND = LeadStatus.GEPLAND
AFGEROND = LeadStatus.AFGEROND
AFGEWEZEN = LeadStatus.AFGEWEZEN
GEANNULEERD = LeadStatus.GEANNULEERD

ALLOWED_TRANSITIONS: dict[LeadStatus, frozenset[LeadStatus]] = {
    NIEUW: frozenset({IN_BEHANDELING, AFGEWEZEN, GEANNULEERD}),
    IN_BEHANDELING: frozenset({GEPLAND, AFGEROND, AFGEWEZEN, GEANNULEERD}),
    GEPLAND: frozenset({AFGEROND, AFGEWEZEN, GEANNULEERD}),
    AFGEROND: frozenset(),
    AFGEWEZEN: frozenset(),
    GEANNULEERD: frozenset(),
}
FINAL_STATUSES = frozenset(status for status, nexts in ALLOWED_TRANSITIONS.items() if not nexts)
OPEN_STATUSES = frozenset(LeadStatus) - FINAL_STATUSES

# How staff and visitors read a status.
LABELS: dict[LeadStatus, str] = {
    NIEUW: "nieuw",
    IN_BEHANDELING: "in behandeling",
    GEPLAND: "gepland",
    AFGEROND: "afgerond",
    AFGEWEZEN: "afgewezen",
    GEANNULEERD: "geannuleerd",
}


class InvalidTransition(ValueError):
    """A status change the life cycle does not allow."""

    def __init__(self, current: LeadStatus, wanted: LeadStatus) -> None:
        super().__init__(f"{current.value} -> {wanted.value}")
        self.current = current
        self.wanted = wanted


def initial_status(kind: LeadKind) -> LeadStatus:
    """Where a new lead starts: a booked intake is planned already."""
    return GEPLAND if kind is LeadKind.INTAKE else NIEUW


def can_transition(current: LeadStatus, wanted: LeadStatus) -> bool:
    return wanted in ALLOWED_TRANSITIONS[current]


def check_transition(current: LeadStatus, wanted: LeadStatus) -> None:
    """Raise :class:`InvalidTransition` unless ``current -> wanted`` is allowed."""
    if not can_transition(current, wanted):
        raise InvalidTransition(current, wanted)


def parse_status(text: str) -> LeadStatus | None:
    """A status from its value or label ("in behandeling", "in_behandeling"), else None."""
    wanted = (text or "").strip().lower().replace("_", " ")
    return next((status for status, label in LABELS.items() if label == wanted), None)
