"""Buttons the actions build themselves: what a button does is fixed here, its title is not.

A title is the text of an ``utter_button_*`` response in the domain (domain.yml, "Button titles"),
so a content editor changes it without touching code. Buttons that never change belong in the
response they stand under, not here.
"""

from __future__ import annotations

import logging
from typing import Any

from actions.responses import response_text

logger = logging.getLogger(__name__)

SOMETHING_ELSE = ("utter_button_something_else", "/something_else")
HANDOFF = ("utter_button_human_handoff", "/human_handoff")
CALLBACK = ("utter_button_request_callback", "/request_callback")
OTHER_WEEK = ("utter_button_other_week", "/other_week")


def buttons(domain: Any, *wanted: tuple[str, str]) -> list[dict[str, str]]:
    """Buttons from (title response, payload) pairs, such as ``SOMETHING_ELSE``.

    A button whose title is missing from the domain is left out, with a warning naming the
    response: a missing title costs one button, never the answer.
    """
    made = []
    for title_response, payload in wanted:
        title = response_text(domain, title_response)
        if title is None:
            logger.warning("response %s is missing from the domain", title_response)
        else:
            made.append({"title": title, "payload": payload})
    return made
