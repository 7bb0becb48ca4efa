"""Dutch wording of a status report: dates, percentages and one line per subject that applies.

The lines come from the real domain.yml (utter_status_line_* and friends), filled as the action
fills them; the expected texts are what a visitor reads.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from actions.status_text import dutch_date, format_status_report, needs_recertification, percent
from kvo.status import PhaseRecord, SignatureRecord, StatusReport
from tests.actions.action_calls import load_domain

TODAY = date(2025, 3, 15)
DOMAIN = load_domain()

BARE = StatusReport(
    reference="KVO-2025-0026",
    area_name="Buitengebied Goes",
    area_kind="buitengebied",
    municipality="Goes",
    province="Zeeland",
    trajectory_kind="eerste_certificering",
    target_stars=1,
    current_phase=1,
    phase_name="Samenwerking en convenant",
    current_phase_started_on=None,
    completed_phases=(),
    convenant_signatures=(),
    survey_response_rate=None,
    survey_required_rate=None,
    schouw_date=None,
    audit_date=None,
    certificate_issued_on=None,
    certificate_expires_on=None,
    certificate_state=None,
    next_step=None,
    next_step_owner=None,
    facilitator_name=None,
)

FULL = StatusReport(
    reference="KVO-2024-0012",
    area_name="Binnenstad Terneuzen",
    area_kind="winkelgebied",
    municipality="Terneuzen",
    province="Zeeland",
    trajectory_kind="hercertificering",
    target_stars=4,
    current_phase=4,
    phase_name="Audit door Kiwa NCP",
    current_phase_started_on=date(2025, 2, 18),
    completed_phases=(
        PhaseRecord(1, "Samenwerking en convenant", date(2024, 4, 19), date(2024, 7, 8)),
        PhaseRecord(
            2, "Veiligheidsanalyse (schouw en enquête)", date(2024, 7, 8), date(2024, 10, 26)
        ),
        PhaseRecord(3, "Plan van aanpak", date(2024, 10, 26), date(2025, 2, 18)),
    ),
    convenant_signatures=(
        SignatureRecord("gemeente", "Gemeente Terneuzen", date(2024, 6, 30)),
        SignatureRecord("ondernemers", "Ondernemersvereniging Terneuzen", date(2024, 7, 3)),
        SignatureRecord("politie", "Politie eenheid Zeeland-West-Brabant", date(2024, 7, 1)),
        SignatureRecord("brandweer", "Brandweer Zeeland", date(2024, 6, 29)),
    ),
    survey_response_rate=38.0,
    survey_required_rate=30.0,
    schouw_date=date(2024, 8, 27),
    audit_date=date(2025, 4, 4),
    certificate_issued_on=date(2022, 7, 13),
    certificate_expires_on=date(2025, 7, 13),
    certificate_state="verloopt_binnenkort",
    next_step="Audit door Kiwa NCP voorbereiden.",
    next_step_owner="Procesbegeleider PVO",
    facilitator_name="Ruben Proefmans",
)


def report(**changes: object) -> StatusReport:
    return dataclasses.replace(FULL, **changes)


def text_of(value: StatusReport, today: date = TODAY) -> str:
    return format_status_report(value, today, DOMAIN)


def lines_of(value: StatusReport, today: date = TODAY) -> list[str]:
    return text_of(value, today).split("\n")


# --- small helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2025, 1, 1), "1 januari 2025"),
        (date(2024, 2, 29), "29 februari 2024"),
        (date(2025, 3, 15), "15 maart 2025"),
        (date(2025, 5, 9), "9 mei 2025"),
        (date(2025, 8, 31), "31 augustus 2025"),
        (date(2026, 12, 31), "31 december 2026"),
    ],
)
def test_dutch_date(day: date, text: str) -> None:
    assert dutch_date(day) == text


def test_dutch_date_names_every_month() -> None:
    names = [dutch_date(date(2025, month, 1)).split()[1] for month in range(1, 13)]
    assert names == [
        "januari", "februari", "maart", "april", "mei", "juni",
        "juli", "augustus", "september", "oktober", "november", "december",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0%"),
        (0.0, "0%"),
        (22.0, "22%"),
        (30, "30%"),
        (34.5, "34,5%"),
        (33.33, "33,3%"),
        (9.05, "9%"),  # rounded down: a rate must never read higher than it is
        (29.96, "29,9%"),
        (99.5, "99,5%"),
        (100.0, "100%"),
        (12.04, "12%"),
    ],
)
def test_percent_uses_a_decimal_comma(value: float, text: str) -> None:
    assert percent(value) == text


# --- the report -----------------------------------------------------------------------------


def test_a_bare_report_has_only_the_basic_lines() -> None:
    assert lines_of(BARE) == [
        "Traject KVO-2025-0026: Buitengebied Goes, buitengebied in de gemeente Goes (Zeeland).",
        "Soort traject: eerste certificering, op weg naar ster 1.",
        "Huidige fase: stap 1 van 5, Samenwerking en convenant.",
    ]
    assert "None" not in text_of(BARE)
    assert not needs_recertification(BARE)


def test_a_full_report() -> None:
    assert lines_of(FULL) == [
        "Traject KVO-2024-0012: Binnenstad Terneuzen, winkelgebied in de gemeente Terneuzen (Zeeland).",
        "Soort traject: hercertificering, op weg naar ster 4.",
        "Huidige fase: stap 4 van 5, Audit door Kiwa NCP, sinds 18 februari 2025.",
        "Afgerond: stap 1 op 8 juli 2024, stap 2 op 26 oktober 2024 en stap 3 op 18 februari 2025.",
        "Convenant: door alle partners ondertekend (laatste handtekening 3 juli 2024).",
        "Enquête: 38% van de ondernemers heeft gereageerd; 30% was nodig, dus dat is voldoende.",
        "Schouw: gehouden op 27 augustus 2024.",
        "Audit door Kiwa NCP: gepland op 4 april 2025.",
        "Let op: het huidige certificaat verloopt op 13 juli 2025, binnen zes maanden. De hercertificering is al bezig.",
        "Volgende stap: Audit door Kiwa NCP voorbereiden. Wie: Procesbegeleider PVO.",
        "Uw procesbegeleider: Ruben Proefmans.",
    ]


@pytest.mark.parametrize(
    ("kind", "wording"),
    [("winkelgebied", "winkelgebied"), ("bedrijventerrein", "bedrijventerrein"),
     ("buitengebied", "buitengebied"), ("haven", "haven")],
)  # fmt: skip
def test_area_kinds(kind: str, wording: str) -> None:
    assert lines_of(report(area_kind=kind))[0].startswith(
        f"Traject KVO-2024-0012: Binnenstad Terneuzen, {wording} in de gemeente"
    )


@pytest.mark.parametrize(
    ("state", "line", "recertify"),
    [
        ("geldig", "Certificaat: geldig tot en met 13 juli 2025.", False),
        ("verloopt_binnenkort", "Let op: het certificaat verloopt op 13 juli 2025, binnen zes maanden. Begin op tijd met de hercertificering.", True),
        ("verlopen", "Let op: het certificaat is verlopen op 13 juli 2025. Voor een nieuw keurmerk is hercertificering nodig.", True),
    ],
)  # fmt: skip
def test_certificate_states_once_certified(state: str, line: str, recertify: bool) -> None:
    value = report(certificate_state=state, current_phase=5)
    assert line in lines_of(value)
    assert needs_recertification(value) is recertify


@pytest.mark.parametrize(
    ("state", "line"),
    [
        ("verloopt_binnenkort", "Let op: het huidige certificaat verloopt op 13 juli 2025, binnen zes maanden. De hercertificering is al bezig."),
        ("verlopen", "Let op: het vorige certificaat is verlopen op 13 juli 2025. De hercertificering is al bezig; na een goede audit krijgt het gebied een nieuw certificaat."),
    ],
)  # fmt: skip
def test_certificate_advice_during_a_recertification(state: str, line: str) -> None:
    value = report(certificate_state=state)  # phase 4 of a recertification
    assert line in lines_of(value)
    assert not needs_recertification(value)


@pytest.mark.parametrize(
    ("stars", "wording"), [(1, "afgerond met 1 ster."), (3, "afgerond met 3 sterren.")]
)
def test_a_certified_trajectory_has_its_stars_rather_than_working_towards_them(
    stars: int, wording: str
) -> None:
    lines = lines_of(report(current_phase=5, target_stars=stars))
    assert f"Soort traject: hercertificering, {wording}" in lines
    assert "op weg naar" not in "\n".join(lines)


def test_no_certificate_line_without_expiry_date() -> None:
    text = text_of(report(certificate_expires_on=None, certificate_state=None))
    assert "ertificaat" not in text


@pytest.mark.parametrize(
    ("rate", "required", "line"),
    [
        (22.0, 30.0, "Enquête: 22% van de ondernemers heeft gereageerd; er is 30% nodig."),
        (29.9, 30.0, "Enquête: 29,9% van de ondernemers heeft gereageerd; er is 30% nodig."),
        (30.0, 30.0, "Enquête: 30% van de ondernemers heeft gereageerd; 30% was nodig, dus dat is voldoende."),
        (34.5, 30.0, "Enquête: 34,5% van de ondernemers heeft gereageerd; 30% was nodig, dus dat is voldoende."),
        (12.5, None, "Enquête: 12,5% van de ondernemers heeft gereageerd."),
        (0.0, 25.0, "Enquête: 0% van de ondernemers heeft gereageerd; er is 25% nodig."),
    ],
)  # fmt: skip
def test_survey_below_and_above_the_required_rate(
    rate: float, required: float | None, line: str
) -> None:
    assert line in lines_of(report(survey_response_rate=rate, survey_required_rate=required))


def test_no_survey_line_without_a_response_rate() -> None:
    text = text_of(report(survey_response_rate=None))
    assert "Enquête" not in text


def test_a_rate_just_below_the_requirement_never_reads_as_reached() -> None:
    # Rates are stored with two decimals; 29.96 must not be shown as "30%" next to "30% nodig".
    line = next(
        line
        for line in lines_of(report(survey_response_rate=29.96, survey_required_rate=30.0))
        if line.startswith("Enquête")
    )
    assert line.endswith("er is 30% nodig.")
    assert not line.startswith("Enquête: 30% ")


def test_partly_signed_convenant() -> None:
    signatures = (
        SignatureRecord("gemeente", "Gemeente Goes", date(2025, 3, 1)),
        SignatureRecord("ondernemers", "Agrarische ondernemers Goes", None),
        SignatureRecord("politie", "Politie", None),
        SignatureRecord("overig", "Waterschap Scheldestromen", date(2025, 3, 2)),
    )
    assert (
        "Convenant: ondertekend door de gemeente en Waterschap Scheldestromen;"
        " nog niet ondertekend door de ondernemers en de politie."
    ) in lines_of(report(convenant_signatures=signatures))


def test_unsigned_convenant() -> None:
    signatures = (SignatureRecord("brandweer", "Brandweer Zeeland", None),)
    assert "Convenant: nog niet ondertekend door de brandweer." in lines_of(
        report(convenant_signatures=signatures)
    )


def test_schouw_and_audit_tense_depends_on_today() -> None:
    value = report(schouw_date=TODAY, audit_date=date(2025, 3, 14))
    lines = lines_of(value)
    assert "Schouw: gepland op 15 maart 2025." in lines
    assert "Audit door Kiwa NCP: gehouden op 14 maart 2025." in lines


def test_completed_phases_only_before_the_current_one() -> None:
    phases = (
        PhaseRecord(1, "Samenwerking en convenant", date(2024, 1, 1), date(2024, 2, 1)),
        PhaseRecord(
            2, "Veiligheidsanalyse (schouw en enquête)", date(2024, 2, 1), date(2024, 3, 1)
        ),
    )
    lines = lines_of(report(current_phase=2, completed_phases=phases))
    assert "Afgerond: stap 1 op 1 februari 2024." in lines


def test_next_step_without_owner_and_without_double_full_stop() -> None:
    lines = lines_of(report(next_step="Plan afronden...", next_step_owner=None))
    assert "Volgende stap: Plan afronden." in lines
    assert not any("Wie:" in line for line in lines)
