"""The lead life cycle: one table of allowed transitions."""

from __future__ import annotations

import itertools

import pytest

from kvo import lead_status
from kvo.models import LeadKind, LeadStatus

S = LeadStatus


def test_the_happy_paths() -> None:
    assert lead_status.initial_status(LeadKind.INTAKE) is S.GEPLAND
    assert lead_status.initial_status(LeadKind.CALLBACK) is S.NIEUW
    path = [S.NIEUW, S.IN_BEHANDELING, S.GEPLAND, S.AFGEROND]
    for current, wanted in itertools.pairwise(path):
        lead_status.check_transition(current, wanted)


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (S.NIEUW, S.GEPLAND),  # via "in behandeling"
        (S.NIEUW, S.AFGEROND),
        (S.GEPLAND, S.NIEUW),
        (S.GEPLAND, S.IN_BEHANDELING),
        (S.AFGEROND, S.GEANNULEERD),
        (S.GEANNULEERD, S.GEPLAND),
        (S.AFGEWEZEN, S.NIEUW),
        (S.NIEUW, S.NIEUW),
    ],
)
def test_refused_transitions(current: LeadStatus, wanted: LeadStatus) -> None:
    assert not lead_status.can_transition(current, wanted)
    with pytest.raises(lead_status.InvalidTransition):
        lead_status.check_transition(current, wanted)


def test_every_open_status_can_end_in_rejection_or_cancellation() -> None:
    for status in lead_status.OPEN_STATUSES:
        assert {S.AFGEWEZEN, S.GEANNULEERD} <= lead_status.ALLOWED_TRANSITIONS[status]
    assert {S.AFGEROND, S.AFGEWEZEN, S.GEANNULEERD} == lead_status.FINAL_STATUSES
    assert set(lead_status.ALLOWED_TRANSITIONS) == set(LeadStatus)


def test_labels_and_parsing() -> None:
    assert lead_status.LABELS[S.IN_BEHANDELING] == "in behandeling"
    assert lead_status.parse_status("In behandeling") is S.IN_BEHANDELING
    assert lead_status.parse_status("in_behandeling") is S.IN_BEHANDELING
    assert lead_status.parse_status("klaar") is None
