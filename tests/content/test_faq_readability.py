"""Every FAQ answer at B1: Flesch-Douma of the first variant >= 60, the mean >= 65."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.content.readability import flesch_douma
from tests.support import add_report

RESPONSES = Path(__file__).resolve().parents[2] / "data" / "responses"
MIN_SCORE = 60.0
MIN_MEAN = 65.0
# Variables the response generator fills (bot/nlg.py), scored with their default values.
DEFAULT_VARIABLES = {"conversation_retention_days": "30", "lead_retention_months": "12"}


def faq_answers() -> dict[str, str]:
    """First variant of each utter_faq/<topic> response, text only."""
    answers = {}
    for path in sorted(RESPONSES.glob("*.yml")):
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
        for name, variants in responses.items():
            if name.startswith("utter_faq/") and variants:
                text = str(variants[0].get("text") or "")
                answers[name.removeprefix("utter_faq/")] = text.format_map(DEFAULT_VARIABLES)
    return answers


def test_every_faq_answer_reads_at_b1() -> None:
    scores = {topic: flesch_douma(text) for topic, text in faq_answers().items()}
    assert scores
    mean = sum(scores.values()) / len(scores)
    table = "\n".join(f"  {topic:<28} {score:5.1f}" for topic, score in sorted(scores.items()))
    add_report(f"Flesch-Douma per FAQ answer (mean {mean:.1f}):\n{table}")
    too_hard = {topic: round(score, 1) for topic, score in scores.items() if score < MIN_SCORE}
    assert not too_hard, too_hard
    assert mean >= MIN_MEAN, mean


def test_the_syllable_rules_of_the_definition() -> None:
    from tests.content.readability import syllables, token_syllables

    assert syllables("ooievaar") == 3  # ooi + e + aa
    assert syllables("tweeëntwintig") == 4  # the diaeresis starts a new nucleus
    assert syllables("bijeenkomst") == 3
    assert token_syllables("2024") == 7  # twee-dui-zend-vier-en-twin-tig
    assert token_syllables("30%") == 4  # der-tig pro-cent
