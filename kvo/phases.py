"""The five steps of a KVO trajectory, with the Dutch names visitors see."""

from __future__ import annotations

FIRST_PHASE = 1
LAST_PHASE = 5

PHASE_NAMES: dict[int, str] = {
    1: "Samenwerking en convenant",
    2: "Veiligheidsanalyse (schouw en enquête)",
    3: "Plan van aanpak",
    4: "Audit door Kiwa NCP",
    5: "Gecertificeerd en hercertificering",
}


def phase_name(phase: int) -> str:
    """The Dutch name of a phase; ValueError outside 1..5."""
    try:
        return PHASE_NAMES[phase]
    except KeyError:
        raise ValueError(f"phase must be {FIRST_PHASE}..{LAST_PHASE}, got {phase!r}") from None
