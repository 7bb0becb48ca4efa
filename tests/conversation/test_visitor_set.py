"""The visitor conversation set and the test stories, scored reply by reply on the trained model."""

from __future__ import annotations

from tests.conversation.evaluate import (
    evaluate,
    failures,
    rates,
    story_conversations,
    summary,
    visitor_conversations,
)
from tests.support import Engine, add_report

MAX_WRONG = 0.05


def test_visitor_set_and_stories_have_no_dead_end_no_repeat_and_few_wrong(engine: Engine) -> None:
    assert engine.api_token, "the conversation tests' engine runs with its HTTP API on"
    outcomes = evaluate(
        engine.url, visitor_conversations() + story_conversations(), engine.api_token
    )
    add_report("Conversation quality (tests/conversation/evaluate.py):\n" + summary(outcomes))
    overall = rates(outcomes)
    details = failures(outcomes)
    assert not any(o.dead_end for o in outcomes), details
    assert not any(o.repeat for o in outcomes), details
    assert overall["wrong"] <= MAX_WRONG, details
