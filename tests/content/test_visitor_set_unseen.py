"""The visitor conversation set stays unseen: none of its messages may be training data."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.conversation.evaluate import normalise, visitor_conversations

NLU = Path(__file__).resolve().parents[2] / "data" / "nlu"
ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\([^)]+\)")
MIN_CONVERSATIONS = 60


def training_messages() -> set[str]:
    messages = set()
    for path in sorted(NLU.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    messages.add(normalise(ENTITY_MARKUP.sub(r"\1", line[2:])))
    return messages


def test_visitor_set_is_big_enough_and_every_turn_is_labelled() -> None:
    conversations = visitor_conversations()
    assert len(conversations) >= MIN_CONVERSATIONS
    assert len({c.name for c in conversations}) == len(conversations)
    assert all(turn.expect and turn.text for c in conversations for turn in c.turns)


def test_no_visitor_message_occurs_in_the_training_data() -> None:
    training = training_messages()
    copies = [
        turn.text
        for conversation in visitor_conversations()
        for turn in conversation.turns
        if not turn.text.startswith("/") and normalise(turn.text) in training
    ]
    assert not copies, copies
