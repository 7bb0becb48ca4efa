"""NLU component: a message that names a KVO trajectory reference is a status question.

Visitors type their reference inside whole sentences ("Hoe staat het met Goes? KVO-2025-0026",
"ref KVO/2024/7"), which the classifier alone often files under a FAQ topic or as unclear. When the
text holds a reference in any sloppy form, this component sets the intent to `check_status`, so the
status form starts and its own parser (kvo.references) keeps the reference. Danger, stopping, and
answers inside the form are left alone. Loaded by Rasa from the engine environment, so it keeps its
own copy of the reference pattern (the engine cannot import kvo/).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message

# Same shape as kvo.references: "KVO", up to three separators, a year, a number. Bounded
# quantifiers keep matching linear in the input length.
_SEP = r"[\s\-_./:#\u2010-\u2015\u2212]"
REFERENCE = re.compile(
    rf"(?<![0-9A-Za-z])KVO{_SEP}{{0,3}}(20[0-9]{{2}})(?:{_SEP}{{1,3}}[0-9]{{1,8}}|[0-9]{{4}})(?![0-9])",
    re.IGNORECASE,
)
# Intents that keep their meaning even with a reference in the text.
KEEP = ("check_status", "inform", "emergency", "stop", "deny", "lost_code", "human_handoff")
MAX_SCAN_CHARS = 2000


def names_reference(text: str) -> bool:
    return bool(REFERENCE.search(unicodedata.normalize("NFKC", text[:MAX_SCAN_CHARS])))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ReferenceIntent(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"intent": "check_status", "keep": list(KEEP)}

    def __init__(self, config: dict[str, Any]) -> None:
        self.intent = config["intent"]
        self.keep = set(config["keep"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ReferenceIntent:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get("text") or ""
            current = (message.get("intent") or {}).get("name")
            if current in self.keep or text.startswith("/") or not names_reference(text):
                continue
            chosen = {"name": self.intent, "confidence": 1.0}
            message.data["intent"] = chosen
            message.data.setdefault("intent_ranking", []).insert(0, dict(chosen))
        return messages
