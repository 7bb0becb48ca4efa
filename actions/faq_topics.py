"""The FAQ topics (sub-intents of the retrieval intent `faq`) with short Dutch titles for buttons."""

from __future__ import annotations

import json

FAQ_TOPIC_TITLES: dict[str, str] = {
    "wat_is_kvo": "Wat is het KVO?",
    "stappen": "De stappen naar het keurmerk",
    "deelnemers_eisen": "Wie moeten meedoen?",
    "convenant_samenwerking": "Het convenant",
    "veiligheidsanalyse_schouw": "Veiligheidsanalyse en schouw",
    "enquete": "De enquête onder ondernemers",
    "plan_van_aanpak": "Het plan van aanpak",
    "certificering_audit": "De audit door Kiwa NCP",
    "geldigheid_hercertificering": "Geldigheid en hercertificering",
    "sterren": "De sterren van het keurmerk",
    "verzekering_korting": "Korting op verzekeringen",
    "kosten_subsidie": "Kosten en subsidie",
    "doorlooptijd": "Hoe lang duurt het?",
    "soorten_gebieden": "Voor welke gebieden?",
    "resultaten_effect": "Wat levert het op?",
    "procesbegeleiding": "Procesbegeleiding",
    "pvo_contact": "Over PVO Brabant-Zeeland",
    "schoon_heel_veilig": "Schoon, heel en veilig",
    "rol_partners": "Wat doet elke partner?",
    "thema_criminaliteit": "Welke problemen pakt het KVO aan?",
    "privacy": "Privacy in deze chat",
    "voordelen": "Wat zijn de voordelen?",
    "wat_is_pvo": "Wat doet PVO?",
    "ccv": "Wat is het CCV?",
    "werkgebied": "Werkgebied van PVO",
    "wie_betaalt": "Wie betaalt wat?",
}

# Other intents a clarification may offer, with their button titles.
OFFERABLE_INTENT_TITLES: dict[str, str] = {
    "check_status": "Status van ons traject",
    "book_intake": "Intake plannen",
    "human_handoff": "Een medewerker spreken",
}


def faq_payload(topic: str) -> str:
    """Button payload that answers `topic` directly, without going through the NLU."""
    return "/choose_faq" + json.dumps({"faq_topic": topic})
