"""The FAQ topics (sub-intents of the retrieval intent `faq`) and the other intents a
clarification may offer; their button titles are responses in the domain (actions/buttons.py)."""

from __future__ import annotations

import json

FAQ_TOPICS: tuple[str, ...] = (
    "wat_is_kvo",
    "stappen",
    "deelnemers_eisen",
    "convenant_samenwerking",
    "veiligheidsanalyse_schouw",
    "enquete",
    "plan_van_aanpak",
    "certificering_audit",
    "geldigheid_hercertificering",
    "sterren",
    "verzekering_korting",
    "kosten_subsidie",
    "doorlooptijd",
    "soorten_gebieden",
    "resultaten_effect",
    "procesbegeleiding",
    "pvo_contact",
    "schoon_heel_veilig",
    "rol_partners",
    "thema_criminaliteit",
    "privacy",
    "voordelen",
    "wat_is_pvo",
    "ccv",
    "werkgebied",
    "wie_betaalt",
)

OFFERABLE_INTENTS: tuple[str, ...] = ("check_status", "book_intake", "human_handoff")


def faq_payload(topic: str) -> str:
    """Button payload that answers `topic` directly, without going through the NLU."""
    return "/choose_faq" + json.dumps({"faq_topic": topic})


def title_response(key: str) -> str:
    """The response holding the button title of a FAQ topic or offerable intent."""
    return f"utter_button_faq_{key}" if key in FAQ_TOPICS else f"utter_button_{key}"


def payload(key: str) -> str:
    """What the button of a FAQ topic or offerable intent sends."""
    return faq_payload(key) if key in FAQ_TOPICS else f"/{key}"
