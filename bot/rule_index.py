"""The rule policy tries only the rules that can apply after the action that just ran.

Rasa 3.6's RulePolicy checks every learned rule against the conversation on each prediction
(``_get_possible_keys``): with the forms, the intake and the emergency routes we have about 190
rule keys, and the check was the largest part of dialogue prediction (py-spy under the
20-conversation benchmark: 7.7% of the engine's time, against 2% with the 24 rules before).

A rule whose last state requires a previous action (``prev_action.action_name``) cannot match a
conversation whose last action was another one: Rasa's own check would reject it. ``install()``
indexes the rules by that action once per lookup and lets Rasa's check run on the remaining
candidates only, turn by turn as before, so the rules found are exactly the same. Used by the
engine (bot/engine.py); training and ``rasa test`` keep Rasa's own loop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

PREVIOUS_ACTION = "prev_action"
ACTION_NAME = "action_name"


def _required_action(rule_states: list[dict[str, Any]], should_not_be_set: str) -> str | None:
    """The action the rule's last state requires to have just run, if it names one."""
    last = rule_states[-1] if rule_states else {}
    previous = last.get(PREVIOUS_ACTION) if isinstance(last, Mapping) else None
    name = previous.get(ACTION_NAME) if isinstance(previous, Mapping) else None
    return name if isinstance(name, str) and name and name != should_not_be_set else None


class RuleIndex:
    """The keys of one rule lookup, grouped by the previous action their last state requires."""

    def __init__(self, lookup: Mapping[str, Any], to_states: Any, should_not_be_set: str) -> None:
        self.size = len(lookup)
        self.by_action: dict[str, list[str]] = {}
        self.unconditional: list[str] = []
        for key in lookup:
            action = _required_action(to_states(key), should_not_be_set)
            if action is None:
                self.unconditional.append(key)
            else:
                self.by_action.setdefault(action, []).append(key)

    def candidates(self, state: Mapping[str, Any]) -> list[str]:
        previous = state.get(PREVIOUS_ACTION) if isinstance(state, Mapping) else None
        name = previous.get(ACTION_NAME) if isinstance(previous, Mapping) else None
        return [*self.by_action.get(name, ()), *self.unconditional] if name else self.unconditional


def install() -> bool:
    """Use the index in RulePolicy from now on; False (Rasa's loop stays) when it cannot."""
    from rasa.core.policies import rule_policy
    from rasa.core.policies.rule_policy import RulePolicy

    should_not_be_set = getattr(rule_policy, "SHOULD_NOT_BE_SET", None)
    original = getattr(RulePolicy, "_get_possible_keys", None)
    if not isinstance(should_not_be_set, str) or not callable(original):
        logger.warning("RulePolicy is not the one this index was written for; Rasa's loop stays")
        return False
    if getattr(original, "indexed", False):
        return True

    def get_possible_keys(self: Any, lookup: dict[str, Any], states: list[Any]) -> set[str]:
        if not states:
            return set(lookup.keys())
        indexes = self.__dict__.setdefault("_pvo_rule_indexes", {})
        index = indexes.get(id(lookup))
        if index is None or index.size != len(lookup):
            index = indexes[id(lookup)] = RuleIndex(
                lookup, self._rule_key_to_state, should_not_be_set
            )
        reversed_states = list(reversed(states))
        possible = [
            key
            for key in index.candidates(reversed_states[0])
            if self._is_rule_applicable(key, 0, reversed_states[0])
        ]
        for turn, state in enumerate(reversed_states[1:], start=1):
            if not possible:
                break
            possible = [key for key in possible if self._is_rule_applicable(key, turn, state)]
        return set(possible)

    get_possible_keys.indexed = True  # type: ignore[attr-defined]
    get_possible_keys.original = original  # type: ignore[attr-defined]
    RulePolicy._get_possible_keys = get_possible_keys
    return True
