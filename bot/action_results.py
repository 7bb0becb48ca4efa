"""The engine checks each answer of the action server against Rasa's schema, compiled once.

Rasa 3.6 validates every action server answer with ``jsonschema.validate``, which first checks
the schema itself against its JSON Schema meta-schema: about 23 ms per custom action call on
our 2 cores, for a schema that never changes. Visitors in a form (status check, intake) wait for
one to three such calls per message.

``install()`` replaces ``RemoteAction._validate_action_result`` with the same validation against
a validator built once: the schema is checked at start-up, each answer is still checked in full
and a wrong answer raises the same ``ValidationError`` with Rasa's explanation. It refuses to
install (and the engine runs with Rasa's own check) when Rasa's method or schema is not what
this module was written for.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def install() -> bool:
    """Use the compiled validator from now on; False (Rasa's check stays) when it cannot."""
    from jsonschema import exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    # Rasa's own explanation, word for word.
    hint = (
        ". Failed to validate Action server response from API, make sure your response from the"
        " Action endpoint is valid. For more information about the format visit"
        f" {DOCS_BASE_URL}/custom-actions"
    )

    if not callable(getattr(RemoteAction, "_validate_action_result", None)):
        logger.warning("Rasa's action result check not found; its own check stays")
        return False
    if getattr(RemoteAction._validate_action_result, "compiled_schema", False):
        return True
    try:
        schema = RemoteAction.action_response_format_spec()
        validator_class = validators.validator_for(schema)
        validator_class.check_schema(schema)
        validator = validator_class(schema)
    except Exception as error:
        logger.warning("Action result schema not compiled (%s); Rasa's own check stays", error)
        return False

    def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is not None:
            error.message += hint
            raise error
        return True

    validate_action_result.compiled_schema = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate_action_result
    return True
