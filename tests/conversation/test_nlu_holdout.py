"""NLU quality on the hold-out set (tests/nlu/holdout.yml), written apart from the training data.

A FAQ message counts as right only when the selected topic is right (label faq/<topic>).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import httpx
import yaml

from tests.support import Engine, add_report

HOLDOUT = Path(__file__).resolve().parent.parent / "nlu" / "holdout.yml"
TRAINING_DATA = HOLDOUT.parents[2] / "data" / "nlu"
# A floor against regressions, not the measure of quality: single messages out of context, over
# 40 labels. What visitors get is measured on whole conversations (test_visitor_set.py, which fails
# on any dead end or repeat and on more than 5% wrong).
MIN_ACCURACY = 0.85
MIN_EXAMPLES_PER_LABEL = 5
ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def holdout_examples() -> list[tuple[str, str]]:
    examples = []
    for block in yaml.safe_load(HOLDOUT.read_text(encoding="utf-8"))["nlu"]:
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append((block["intent"], ENTITY_MARKUP.sub(r"\1", line[2:])))
    return examples


def training_blocks() -> list[dict]:
    """Every intent block of the training data (data/nlu/*.yml)."""
    blocks = []
    for path in sorted(TRAINING_DATA.glob("*.yml")):
        blocks += yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", [])
    return blocks


def predicted_label(parse: dict) -> str:
    intent = parse["intent"]["name"]
    if intent == "faq":
        return parse["response_selector"]["faq"]["response"]["intent_response_key"]
    return intent


def test_holdout_set_covers_every_label() -> None:
    counts = Counter(label for label, _ in holdout_examples())
    # Button payloads nobody types (choose_slot carries a machine timestamp), and answers that mean
    # something only inside the intake form, whose validation reads them in that context.
    button_only = (
        "choose_faq",
        "faq_menu",
        "something_else",
        "choose_slot",
        "confirm_booking",
        "change_field",
        "other_week",
        "skip",
    )
    training_labels = {
        block["intent"]
        for block in training_blocks()
        if "intent" in block and block["intent"] not in button_only
    }
    assert training_labels <= set(counts), training_labels - set(counts)
    assert min(counts.values()) >= MIN_EXAMPLES_PER_LABEL


def test_holdout_has_no_copies_of_training_examples() -> None:
    training = {
        ENTITY_MARKUP.sub(r"\1", line.strip()[2:]).lower()
        for block in training_blocks()
        for line in str(block.get("examples", "")).splitlines()
    }
    copies = [text for _, text in holdout_examples() if text.lower() in training]
    assert not copies


def test_intent_accuracy_on_holdout(engine: Engine) -> None:
    examples = holdout_examples()
    confusions: Counter[tuple[str, str]] = Counter()
    correct = 0
    with httpx.Client(timeout=30) as client:
        for label, text in examples:
            parse = client.post(engine.api("/model/parse"), json={"text": text}).json()
            predicted = predicted_label(parse)
            if predicted == label:
                correct += 1
            else:
                confusions[(label, predicted)] += 1
    accuracy = correct / len(examples)
    lines = [f"NLU hold-out: {correct}/{len(examples)} right, accuracy {accuracy:.3f}"]
    lines += [f"  {gold:32} -> {wrong:32} x{n}" for (gold, wrong), n in confusions.most_common()]
    add_report("\n".join(lines))
    assert accuracy >= MIN_ACCURACY, "\n".join(lines)
