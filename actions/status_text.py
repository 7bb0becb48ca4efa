"""The status report: which lines apply, filled from the domain's utter_status_line_* responses.

Every visitor-facing word lives in domain.yml; this module only chooses the responses and
formats the values that go into them (dates, percentages, lists). Pure functions, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from typing import Any

from actions.responses import render, response_text
from kvo.status import SignatureRecord, StatusReport

MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip
TOTAL_PHASES = 5
LIST_AND = "utter_list_and"
# Convenant partners by their registered kind; any other kind gets STAKEHOLDER_OTHER.
STAKEHOLDER_RESPONSES = {
    "gemeente": "utter_status_stakeholder_gemeente",
    "ondernemers": "utter_status_stakeholder_ondernemers",
    "politie": "utter_status_stakeholder_politie",
    "brandweer": "utter_status_stakeholder_brandweer",
}
STAKEHOLDER_OTHER = "utter_status_stakeholder_other"


def dutch_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def percent(value: float) -> str:
    """Dutch percentage with at most one decimal, rounded down: 29.96 must not read as 30%."""
    text = f"{math.floor(value * 10) / 10:.1f}".removesuffix(".0").replace(".", ",")
    return f"{text}%"


def join_list(domain: Any, parts: list[str]) -> str:
    """ "a, b en c", with the domain's word for "and"; only commas if that word is missing."""
    if len(parts) < 2:
        return "".join(parts)
    word = (response_text(domain, LIST_AND) or "").strip()
    last = f" {word} " if word else ", "
    return ", ".join(parts[:-1]) + last + parts[-1]


def _signatures_line(domain: Any, report: StatusReport) -> str | None:
    if not report.convenant_signatures:
        return None
    signed = [s for s in report.convenant_signatures if s.signed_on]
    missing = [s for s in report.convenant_signatures if not s.signed_on]

    def who(signatures: Iterable[SignatureRecord]) -> str:
        names = [
            render(
                domain,
                STAKEHOLDER_RESPONSES.get(s.stakeholder, STAKEHOLDER_OTHER),
                party=s.party,
            )
            for s in signatures
        ]
        return join_list(domain, names)

    if not missing:
        last = max(s.signed_on for s in signed if s.signed_on)
        return render(domain, "utter_status_line_convenant_signed_by_all", date=dutch_date(last))
    if signed:
        return render(
            domain,
            "utter_status_line_convenant_partly_signed",
            signed=who(signed),
            missing=who(missing),
        )
    return render(domain, "utter_status_line_convenant_unsigned", missing=who(missing))


def _survey_line(domain: Any, report: StatusReport) -> str | None:
    rate = report.survey_response_rate
    if rate is None:
        return None
    required = report.survey_required_rate
    if required is None:
        return render(domain, "utter_status_line_survey", rate=percent(rate))
    name = (
        "utter_status_line_survey_enough"
        if rate >= required
        else "utter_status_line_survey_not_enough"
    )
    return render(domain, name, rate=percent(rate), required=percent(required))


def recertification_in_progress(report: StatusReport) -> bool:
    """A recertification before its audit is done: the old certificate still counts."""
    return report.trajectory_kind == "hercertificering" and report.current_phase < TOTAL_PHASES


def _certificate_line(domain: Any, report: StatusReport) -> str | None:
    expires = report.certificate_expires_on
    if expires is None:
        return None
    # The advice depends on the phase: a recertification that is already under way needs no
    # reminder to start one.
    running = recertification_in_progress(report)
    if report.certificate_state == "verlopen":
        name = (
            "utter_status_line_certificate_expired_recert_running"
            if running
            else "utter_status_line_certificate_expired"
        )
    elif report.certificate_state == "verloopt_binnenkort":
        name = (
            "utter_status_line_certificate_expiring_recert_running"
            if running
            else "utter_status_line_certificate_expiring"
        )
    else:
        name = "utter_status_line_certificate_valid"
    return render(domain, name, date=dutch_date(expires))


def needs_recertification(report: StatusReport) -> bool:
    """Worth offering a talk about recertifying: the certificate ends and no new round runs yet."""
    return report.certificate_state in (
        "verloopt_binnenkort",
        "verlopen",
    ) and not recertification_in_progress(report)


def _stars_line(domain: Any, report: StatusReport) -> str:
    trajectory = render(
        domain,
        "utter_status_trajectory_recertification"
        if report.trajectory_kind == "hercertificering"
        else "utter_status_trajectory_first_certification",
    )
    if report.current_phase < TOTAL_PHASES:
        name = "utter_status_line_stars_working_towards"
    elif report.target_stars == 1:
        # Certified: the star is earned, not something to work towards.
        name = "utter_status_line_stars_certified_one_star"
    else:
        name = "utter_status_line_stars_certified"
    return render(domain, name, trajectory=trajectory, stars=report.target_stars)


def _phase_line(domain: Any, report: StatusReport) -> str:
    values: dict[str, Any] = {
        "phase": report.current_phase,
        "total_phases": TOTAL_PHASES,
        "phase_name": report.phase_name,
    }
    if report.current_phase_started_on:
        since = dutch_date(report.current_phase_started_on)
        return render(domain, "utter_status_line_phase_since", **values, since=since)
    return render(domain, "utter_status_line_phase", **values)


def _completed_line(domain: Any, report: StatusReport) -> str | None:
    done = [
        render(
            domain, "utter_status_completed_phase", phase=p.phase, date=dutch_date(p.completed_on)
        )
        for p in report.completed_phases
        if p.completed_on and p.phase < report.current_phase
    ]
    if not done:
        return None
    return render(domain, "utter_status_line_completed", phases=join_list(domain, done))


def _visit_lines(domain: Any, report: StatusReport, today: date) -> list[str]:
    """Schouw and audit: planned from today on, held before today."""
    visits = (
        (report.schouw_date, "utter_status_line_schouw_planned", "utter_status_line_schouw_held"),
        (report.audit_date, "utter_status_line_audit_planned", "utter_status_line_audit_held"),
    )
    return [
        render(domain, planned if day >= today else held, date=dutch_date(day))
        for day, planned, held in visits
        if day
    ]


def _next_step_line(domain: Any, report: StatusReport) -> str | None:
    if not report.next_step:
        return None
    step = report.next_step.rstrip(".")
    if report.next_step_owner:
        return render(
            domain,
            "utter_status_line_next_step_with_owner",
            next_step=step,
            owner=report.next_step_owner,
        )
    return render(domain, "utter_status_line_next_step", next_step=step)


def format_status_report(report: StatusReport, today: date, domain: Any) -> str:
    """The status answer: one short line per subject, only the subjects that apply.

    "" when the domain has none of the responses (nothing a visitor could read).
    """
    lines = [
        render(
            domain,
            "utter_status_line_area",
            reference=report.reference,
            area_name=report.area_name,
            area_kind=report.area_kind,
            municipality=report.municipality,
            province=report.province,
        ),
        _stars_line(domain, report),
        _phase_line(domain, report),
        _completed_line(domain, report),
        _signatures_line(domain, report),
        _survey_line(domain, report),
        *_visit_lines(domain, report, today),
        _certificate_line(domain, report),
        _next_step_line(domain, report),
    ]
    if report.facilitator_name:
        lines.append(
            render(domain, "utter_status_line_facilitator", facilitator=report.facilitator_name)
        )
    return "\n".join(line for line in lines if line)
