"""NLU component: treats a FAQ question as unclear when the answer selection itself is unsure.

The intent classifier can be sure a message is *a* FAQ question ("faq") while the ResponseSelector
hesitates between topics; HTML, SQL-looking text and other noise often land there. Answering the
top topic anyway gives a confident wrong answer. This gate, placed after the FallbackClassifier,
turns such messages into `nlu_fallback`, so the assistant asks which topic is meant instead
(action_clarify offers the likeliest ones). Loaded by Rasa from the engine environment.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FaqConfidenceGate(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"retrieval_intent": "faq", "threshold": 0.3}

    def __init__(self, config: dict[str, Any]) -> None:
        self.retrieval_intent = config["retrieval_intent"]
        self.threshold = float(config["threshold"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FaqConfidenceGate:
        return cls(config)

    def topic_confidence(self, message: Message) -> float | None:
        """The selector's confidence in its best topic, or None if this is no FAQ question."""
        if (message.get("intent") or {}).get("name") != self.retrieval_intent:
            return None
        selector = (message.get("response_selector") or {}).get(self.retrieval_intent) or {}
        return float((selector.get("response") or {}).get("confidence") or 0.0)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            confidence = self.topic_confidence(message)
            if confidence is None or confidence >= self.threshold:
                continue
            fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": confidence}
            message.data["intent"] = fallback
            message.data.setdefault("intent_ranking", []).insert(0, dict(fallback))
        return messages
