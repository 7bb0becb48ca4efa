"""Dutch wording of a trajectory status report (pure functions, no I/O)."""

from __future__ import annotations

import math
from datetime import date

from kvo.status import SignatureRecord, StatusReport

MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip
TOTAL_PHASES = 5
STAKEHOLDERS = {
    "gemeente": "de gemeente",
    "ondernemers": "de ondernemers",
    "politie": "de politie",
    "brandweer": "de brandweer",
}


def dutch_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def percent(value: float) -> str:
    """Dutch percentage with at most one decimal, rounded down: 29.96 must not read as 30%."""
    text = f"{math.floor(value * 10) / 10:.1f}".removesuffix(".0").replace(".", ",")
    return f"{text}%"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]


def _signatures_line(report: StatusReport) -> str | None:
    if not report.convenant_signatures:
        return None
    signed = [s for s in report.convenant_signatures if s.signed_on]
    missing = [s for s in report.convenant_signatures if not s.signed_on]

    def who(signature: SignatureRecord) -> str:
        return STAKEHOLDERS.get(signature.stakeholder, signature.party)

    if not missing:
        last = max(s.signed_on for s in signed)
        return (
            f"Convenant: door alle partners ondertekend (laatste handtekening {dutch_date(last)})."
        )
    line = "Convenant: "
    if signed:
        line += f"ondertekend door {_join([who(s) for s in signed])}; "
    return line + f"nog niet ondertekend door {_join([who(s) for s in missing])}."


def _survey_line(report: StatusReport) -> str | None:
    if report.survey_response_rate is None:
        return None
    line = f"Enquête: {percent(report.survey_response_rate)} van de ondernemers heeft gereageerd"
    required = report.survey_required_rate
    if required is None:
        return line + "."
    if report.survey_response_rate >= required:
        return line + f"; {percent(required)} was nodig, dus dat is voldoende."
    return line + f"; er is {percent(required)} nodig."


def recertification_in_progress(report: StatusReport) -> bool:
    """A recertification before its audit is done: the old certificate still counts."""
    return report.trajectory_kind == "hercertificering" and report.current_phase < TOTAL_PHASES


def _certificate_line(report: StatusReport) -> str | None:
    expires = report.certificate_expires_on
    if expires is None:
        return None
    # The advice depends on the phase: a recertification that is already under way needs no
    # reminder to start one.
    if report.certificate_state == "verlopen":
        if recertification_in_progress(report):
            return (
                f"Let op: het vorige certificaat is verlopen op {dutch_date(expires)}. De"
                " hercertificering is al bezig; na een goede audit krijgt het gebied een nieuw"
                " certificaat."
            )
        return (
            f"Let op: het certificaat is verlopen op {dutch_date(expires)}. Voor een nieuw keurmerk is"
            " hercertificering nodig."
        )
    if report.certificate_state == "verloopt_binnenkort":
        if recertification_in_progress(report):
            return (
                f"Let op: het huidige certificaat verloopt op {dutch_date(expires)}, binnen zes"
                " maanden. De hercertificering is al bezig."
            )
        return (
            f"Let op: het certificaat verloopt op {dutch_date(expires)}, binnen zes maanden. Begin op"
            " tijd met de hercertificering."
        )
    return f"Certificaat: geldig tot en met {dutch_date(expires)}."


def needs_recertification(report: StatusReport) -> bool:
    """Worth offering a talk about recertifying: the certificate ends and no new round runs yet."""
    return report.certificate_state in (
        "verloopt_binnenkort",
        "verlopen",
    ) and not recertification_in_progress(report)


def _stars_line(report: StatusReport) -> str:
    trajectory = (
        "hercertificering"
        if report.trajectory_kind == "hercertificering"
        else "eerste certificering"
    )
    if report.current_phase >= TOTAL_PHASES:
        # Certified: the star is earned, not something to work towards.
        stars = "1 ster" if report.target_stars == 1 else f"{report.target_stars} sterren"
        return f"Soort traject: {trajectory}, afgerond met {stars}."
    return f"Soort traject: {trajectory}, op weg naar ster {report.target_stars}."


def format_status_report(report: StatusReport, today: date) -> str:
    """The status answer: one short line per subject, only the subjects that apply."""
    lines = [
        f"Traject {report.reference}: {report.area_name}, {report.area_kind} in de gemeente "
        f"{report.municipality} ({report.province}).",
        _stars_line(report),
    ]
    phase = f"Huidige fase: stap {report.current_phase} van {TOTAL_PHASES}, {report.phase_name}"
    if report.current_phase_started_on:
        phase += f", sinds {dutch_date(report.current_phase_started_on)}"
    lines.append(phase + ".")
    done = [
        f"stap {p.phase} op {dutch_date(p.completed_on)}"
        for p in report.completed_phases
        if p.completed_on and p.phase < report.current_phase
    ]
    if done:
        lines.append(f"Afgerond: {_join(done)}.")
    for line in (_signatures_line(report), _survey_line(report)):
        if line:
            lines.append(line)
    for label, day in (("Schouw", report.schouw_date), ("Audit door Kiwa NCP", report.audit_date)):
        if day:
            tense = "gepland op" if day >= today else "gehouden op"
            lines.append(f"{label}: {tense} {dutch_date(day)}.")
    certificate = _certificate_line(report)
    if certificate:
        lines.append(certificate)
    if report.next_step:
        owner = f" Wie: {report.next_step_owner}." if report.next_step_owner else ""
        lines.append(f"Volgende stap: {report.next_step.rstrip('.')}.{owner}")
    if report.facilitator_name:
        lines.append(f"Uw procesbegeleider: {report.facilitator_name}.")
    return "\n".join(lines)
