"""Texts from the domain's responses, filled in the action itself.

Most actions name a response and let Rasa fill it. A message composed of several responses (the
status report: one line per subject that applies) is filled here instead, from the domain that
Rasa sends with every action call: ``domain["responses"][name][0]["text"]`` with str.format-style
{variables}, as Rasa fills them.

Filling never raises. A response that is missing, or that names a variable the action does not
pass (a typo by a content editor), gives the generic ``FALLBACK_RESPONSE`` instead; the log names
the response, never the values.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

FALLBACK_RESPONSE = "utter_text_unavailable"


def response_text(domain: Any, name: str) -> str | None:
    """The text of the response's first variant, unfilled; None when there is none."""
    responses = domain.get("responses") if isinstance(domain, Mapping) else None
    variants = responses.get(name) if isinstance(responses, Mapping) else None
    first = variants[0] if isinstance(variants, list) and variants else None
    text = first.get("text") if isinstance(first, Mapping) else None
    return text if isinstance(text, str) and text else None


def _fill(template: str, values: Mapping[str, Any]) -> str:
    # format_map: the values are only ever substituted, never read as a template themselves.
    return template.format_map(values)


def render(domain: Any, name: str, /, **values: Any) -> str:
    """The response ``name`` filled with ``values``; the generic fallback text when that fails.

    Returns "" only when the fallback response is missing too (a domain without responses).
    """
    template = response_text(domain, name)
    if template is not None:
        try:
            return _fill(template, values)
        except Exception as error:
            logger.warning("response %s could not be filled: %s", name, type(error).__name__)
    else:
        logger.warning("response %s is missing from the domain", name)
    fallback = response_text(domain, FALLBACK_RESPONSE)
    if fallback is None:
        logger.warning("response %s is missing from the domain", FALLBACK_RESPONSE)
        return ""
    try:
        return _fill(fallback, {})
    except Exception as error:
        logger.warning(
            "response %s could not be filled: %s", FALLBACK_RESPONSE, type(error).__name__
        )
        return ""
