"""The questions of the intake and callback forms: what counts as an answer, and what is next.

The redacting tracker store keeps a personal slot's value only during the turn it was typed in,
so every answer is written to the conversation's intake draft (kvo/intake_drafts.py) as soon as
it is valid, and the forms ask for what the draft still lacks, not for what the slots lack. No
personal answer is written before the visitor consented.

Free-text answers (name, area, organisation, description, question) are taken as the answer
whatever the classifier thought of them ("wij willen starten met het KVO" is a fine description),
unless they are a control word (stop, laat maar, overslaan), an emergency, or clearly a question:
then the visitor is asked whether it was meant as the answer.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.intake_store import StoreProblem, discard_draft, load_draft, run_in_store, save_fields
from actions.tracker_input import (
    as_dict,
    as_text,
    latest_intent,
    latest_message,
    latest_text,
    sender_id,
    slot,
    slot_text,
)
from kvo import municipalities
from kvo.contact_details import (
    MAX_AREA_NAME_CHARS,
    MAX_DESCRIPTION_CHARS,
    MAX_ORGANISATION_CHARS,
    clean_text,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from kvo.lead_fields import AREA_KIND_LABELS, ROLE_LABELS, parse_area_kind, parse_role

# Slot -> draft field. "intake_contact" fills "email" or "phone".
DRAFT_KEYS = {
    "intake_consent": "consent_at",
    "intake_name": "name",
    "intake_municipality": "municipality",
    "intake_area": "area_name",
    "intake_role": "role",
    "intake_organisation": "organisation",
    "intake_area_kind": "area_kind",
    "intake_description": "description",
    "callback_question": "callback_question",
}
CONTACT_SLOT = "intake_contact"
QUESTION_CHECK_SLOT = "intake_question_check"
INTAKE_ORDER = (
    "intake_consent", "intake_name", CONTACT_SLOT, "intake_municipality", "intake_area",
    "intake_role", "intake_organisation", "intake_area_kind", "intake_description",
)  # fmt: skip
CALLBACK_ORDER = ("intake_consent", "intake_name", CONTACT_SLOT, "callback_question")
OPTIONAL = frozenset({"intake_organisation", "intake_area_kind", "intake_description"})
FREE_TEXT = frozenset(
    {"intake_name", "intake_area", "intake_organisation", "intake_description", "callback_question"}
)
# Not personal: may be noted from the first message, before consent, in the slots only.
PREFILLABLE = ("intake_municipality", "intake_area")

# Why the form ended without all answers; the action after the form says the matching text.
STOPPED_NO_CONSENT = "geen_toestemming"
STOPPED_OUTSIDE_REGION = "buiten_regio"
STOPPED_STORE = "storing"

# Intents that are never an answer to a question with fixed answers; rules answer them and the
# form goes on (or stops). Free-text questions only give way to control words and emergencies.
INTERRUPTIONS = frozenset(
    {
        "faq", "choose_faq", "faq_menu", "stop", "human_handoff", "bot_challenge", "emergency",
        "english", "contact", "capabilities", "request_callback",
    }
)  # fmt: skip
# "Bel mij liever" in the middle of the intake turns it into a callback request (rules); typed as
# the answer to a free-text question, only these words do (a name may be anything).
CALLBACK_WORDS = frozenset(
    {
        "bel mij liever", "bel me liever", "bel mij maar", "bel me maar", "bel mij terug",
        "bel me terug", "liever bellen", "liever gebeld worden", "terugbellen", "terugbelverzoek",
    }
)  # fmt: skip
HARD_STOPS = frozenset({"stop", "emergency"})
STOP_WORDS = frozenset({"stop", "stoppen", "laat maar", "laat maar zitten", "afbreken"})
SKIP_WORDS = frozenset({"overslaan", "sla over", "skip", "/skip", "geen", "n.v.t.", "nvt", "-"})
YES_WORDS = frozenset({"ja", "ja hoor", "ja graag", "akkoord", "goed", "prima", "oke", "oké", "ok"})
NO_WORDS = frozenset({"nee", "nee dank u", "liever niet", "niet akkoord"})
QUESTION_WORDS = frozenset(
    {
        "wat", "hoe", "wie", "waar", "wanneer", "waarom", "welke", "welk", "hoeveel", "kan", "kunt",
        "kunnen", "mag", "moet", "moeten", "is", "zijn", "heeft", "hebben", "wordt", "kost",
        "waarvoor", "wil",
    }
)  # fmt: skip
# Case-sensitive on purpose: "voor de binnenstad" drops the article, "voor De Hurk" keeps it.
_AREA_RE = re.compile(
    r"\b[Vv]oor\s+(?:(?:het|de|ons|onze)\s+)?(?P<area>[^,.!?]{2,80}?)\s+(?:in|te|bij)\s+"
)
_MAX_ANSWER_CHARS = 1000
_DRAFT_ATTRIBUTE = "_pvo_intake_draft"


def _words(text: str) -> str:
    return re.sub(r"[\s.!]+", " ", text.lower()).strip()


def is_stop(text: str, intent: str | None) -> bool:
    return intent in HARD_STOPS or _words(text) in STOP_WORDS


def is_callback(text: str, intent: str | None, free_text: bool) -> bool:
    """Whether the visitor would rather be called back than answer the intake's question."""
    return _words(text) in CALLBACK_WORDS or (not free_text and intent == "request_callback")


def is_skip(text: str, intent: str | None) -> bool:
    return intent == "skip" or _words(text) in SKIP_WORDS


def is_clear_question(text: str, intent: str | None) -> bool:
    """A question mark, or a question word first while the classifier also heard a question."""
    stripped = text.strip()
    if stripped.endswith("?"):
        return True
    first = _words(stripped).split(" ", 1)[0]
    return first in QUESTION_WORDS and intent in {"faq", "faq_menu", "human_handoff"}


def faq_key(tracker: Tracker) -> str | None:
    """The FAQ answer the response selector picked for the latest message ("faq/kosten")."""
    selector = as_dict(as_dict(latest_message(tracker).get("response_selector")).get("faq"))
    key = as_dict(selector.get("response")).get("intent_response_key")
    return key if isinstance(key, str) and re.fullmatch(r"faq/[a-z_]{1,60}", key) else None


def mentioned_area(text: str) -> str | None:
    """ "een intake voor De Hurk in Eindhoven" -> "De Hurk"."""
    match = _AREA_RE.search(text[:_MAX_ANSWER_CHARS])
    if match is None:
        return None
    area = clean_text(match.group("area"), MAX_AREA_NAME_CHARS)
    if area is None or _words(area) in {"een intake", "intake", "een afspraak", "afspraak"}:
        return None
    return area


def after_visitor_message(tracker: Tracker) -> bool:
    """Whether the form runs right after the visitor's message (not after an interruption)."""
    latest = as_dict(getattr(tracker, "latest_action", None)).get("action_name")
    return latest in (None, "action_listen")


def parses(name: str, text: str) -> bool:
    """Whether the text is a valid answer to a question with fixed kinds of answers."""
    if name == CONTACT_SLOT:
        return bool(normalize_email(text) or normalize_phone(text))
    if name == "intake_municipality":
        match = municipalities.resolve_municipality(text)
        return isinstance(match, municipalities.InRegion | municipalities.OutsideRegion)
    if name == "intake_role":
        return parse_role(text) is not None
    if name == "intake_area_kind":
        return parse_area_kind(text) is not None
    return False


def answered(draft: dict[str, str | None], name: str) -> bool:
    if name == CONTACT_SLOT:
        return bool(draft.get("email") or draft.get("phone"))
    if name == QUESTION_CHECK_SLOT:
        return not draft.get("pending_for")
    key = DRAFT_KEYS[name]
    return draft.get(key) is not None


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class LeadFormValidation(FormValidationAction):
    """Shared by the intake and the callback form; ORDER says which questions, in which order."""

    ORDER: tuple[str, ...] = INTAKE_ORDER
    # What interrupts this form; "bel mij liever" leaves the intake for a callback request.
    INTERRUPTED_BY: frozenset[str] = INTERRUPTIONS

    @abstractmethod
    def name(self) -> str:
        """Subclasses name themselves (abstract: the action server skips this class)."""

    # --- the draft, loaded once per call --------------------------------------------------

    @staticmethod
    def draft(tracker: Tracker) -> dict[str, str | None]:
        found = getattr(tracker, _DRAFT_ATTRIBUTE, None)
        return found if isinstance(found, dict) else {}

    async def save(self, tracker: Tracker, values: dict[str, str | None]) -> None:
        saved = await run_in_store(save_fields, sender_id(tracker), values)
        setattr(tracker, _DRAFT_ATTRIBUTE, saved)

    def consented(self, tracker: Tracker) -> bool:
        return bool(self.draft(tracker).get("consent_at"))

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            setattr(tracker, _DRAFT_ATTRIBUTE, await run_in_store(load_draft, sender_id(tracker)))
            return await super().run(dispatcher, tracker, domain)
        except StoreProblem:
            return [SlotSet("intake_stopped", STOPPED_STORE), SlotSet("requested_slot", None)]

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # Only what validation decided counts: a "nee" just extracted must still be validated.
        if slot(tracker, "intake_stopped"):
            return []
        draft = self.draft(tracker)
        if not draft:
            # Nothing answered yet: the form's own order (consent first) decides.
            return list(domain_slots)
        missing = [name for name in self.ORDER if not answered(draft, name)]
        if draft.get("pending_for"):
            missing.insert(0, QUESTION_CHECK_SLOT)
        return missing

    # --- extraction -----------------------------------------------------------------------

    async def _extract(self, name: str, tracker: Tracker) -> dict[str, Any]:
        requested = slot(tracker, "requested_slot")
        text = latest_text(tracker).strip()[:_MAX_ANSWER_CHARS]
        intent = latest_intent(tracker)
        if requested is None:
            return self._prefill(name, text)
        # Back from an interruption (a FAQ answer): the latest message was no answer.
        if requested != name or not after_visitor_message(tracker):
            return {}
        if is_stop(text, None):
            return {}
        # A valid answer counts whatever the classifier thought ("bedrijventerrein" is no FAQ,
        # "cor.cancel@voorbeeld.nl" is no "stop").
        if parses(name, text):
            return {name: text}
        # In free text only the words themselves stop ("Cor Cancel" is a name, whatever the
        # classifier thinks), or the stop button; an emergency always does.
        payload = text.startswith("/")
        typed_stop = name in FREE_TEXT and intent == "stop" and not payload
        if is_stop(text, None if typed_stop else intent):
            return {}
        if "request_callback" in self.INTERRUPTED_BY and is_callback(
            text, intent, name in FREE_TEXT
        ):
            return {}
        if is_skip(text, intent):
            return {name: ""}
        if name in FREE_TEXT:
            if payload and intent in INTERRUPTIONS:
                return {}
            # The callback form asks for the visitor's question: there a question is the answer.
            if name != "callback_question" and is_clear_question(text, intent):
                # Kept aside; the form asks what it was meant as (QUESTION_CHECK_SLOT).
                await self.save(
                    tracker,
                    {"pending_for": name, "pending_answer": text, "pending_faq": faq_key(tracker)},
                )
                return {QUESTION_CHECK_SLOT: None}
            return {name: text}
        if name == "intake_consent":
            words = _words(text)
            if intent == "affirm" or words in YES_WORDS:
                return {name: "ja"}
            if intent == "deny" or words in NO_WORDS:
                return {name: "nee"}
        # A button payload, a question or a sentence interrupts; a short answer like "Eindhovn"
        # is taken as the answer whatever the classifier thought, so the re-ask can help.
        looks_like_answer = not payload and "?" not in text and len(text.split()) <= 3
        if intent in self.INTERRUPTED_BY and not looks_like_answer:
            return {}
        if intent == "deny" and name in OPTIONAL:
            return {name: ""}
        return {name: text}

    def _prefill(self, name: str, text: str) -> dict[str, Any]:
        """Details in the message that started the form ("een intake voor De Hurk in Eindhoven")."""
        if name == "intake_municipality":
            mention = municipalities.find_municipality_in_text(text)
            return {name: mention.match.municipality} if mention else {}
        if name == "intake_area":
            area = mentioned_area(text)
            return {name: area} if area else {}
        return {}

    async def extract_intake_consent(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._extract("intake_consent", tracker)

    async def extract_intake_name(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._extract("intake_name", tracker)

    async def extract_intake_contact(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._extract(CONTACT_SLOT, tracker)

    async def extract_intake_municipality(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._extract("intake_municipality", tracker)

    async def extract_intake_area(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._extract("intake_area", tracker)

    async def extract_intake_role(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._extract("intake_role", tracker)

    async def extract_intake_organisation(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._extract("intake_organisation", tracker)

    async def extract_intake_area_kind(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._extract("intake_area_kind", tracker)

    async def extract_intake_description(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._extract("intake_description", tracker)

    async def extract_callback_question(self, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._extract("callback_question", tracker)

    async def extract_intake_question_check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "is this your answer, or a question?" (buttons /affirm and /deny)."""
        if slot(tracker, "requested_slot") != QUESTION_CHECK_SLOT or not after_visitor_message(
            tracker
        ):
            return {}
        text, intent = latest_text(tracker).strip(), latest_intent(tracker)
        if is_stop(text, intent):
            return {}
        draft = self.draft(tracker)
        field = draft.get("pending_for") or ""
        pending = draft.get("pending_answer") or ""
        words = _words(text)
        await self.save(tracker, {"pending_for": None, "pending_answer": None, "pending_faq": None})
        if field not in FREE_TEXT:
            return {}
        if (intent == "affirm" or words in YES_WORDS) and pending:
            return {field: pending}
        faq = draft.get("pending_faq")
        if faq:
            dispatcher.utter_message(response=f"utter_{faq}")
        else:
            dispatcher.utter_message(response="utter_intake_question_later")
        # No value: the form asks the same question again.
        return {field: None}

    # --- validation -----------------------------------------------------------------------

    async def validate_intake_question_check(self, value, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        # Never holds a value: it only marks that the form asks "answer or question?".
        return {QUESTION_CHECK_SLOT: None}

    async def validate_intake_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"intake_consent": None}  # cleared, not answered: nothing to say
        if value == "ja":
            values: dict[str, str | None] = {"consent_at": now_iso()}
            # Details noted from the first message go into the draft only now.
            for name in PREFILLABLE:
                noted = slot_text(tracker, name)
                if noted:
                    values[DRAFT_KEYS[name]] = noted
            await self.save(tracker, values)
            return {"intake_consent": "ja"}
        if value == "nee":
            await run_in_store(discard_draft, sender_id(tracker))
            setattr(tracker, _DRAFT_ATTRIBUTE, {})
            return {"intake_consent": "nee", "intake_stopped": STOPPED_NO_CONSENT}
        dispatcher.utter_message(response="utter_intake_invalid_consent")
        return {"intake_consent": None}

    async def _free_text(
        self, name: str, value: Any, tracker: Tracker, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        if value is None:
            return {name: None}  # the question was answered first: ask again, say nothing
        text = as_text(value, _MAX_ANSWER_CHARS)
        limits = {
            "intake_name": 200,
            "intake_area": MAX_AREA_NAME_CHARS,
            "intake_organisation": MAX_ORGANISATION_CHARS,
            "intake_description": MAX_DESCRIPTION_CHARS,
            "callback_question": MAX_DESCRIPTION_CHARS,
        }
        if text == "" and name in OPTIONAL:
            await self.save(tracker, {DRAFT_KEYS[name]: ""})
            return {name: ""}
        cleaned = normalize_name(text) if name == "intake_name" else clean_text(text, limits[name])
        if cleaned is None or text.startswith("/"):
            # A button of an earlier message is no name or description: ask again.
            dispatcher.utter_message(
                response=f"utter_intake_invalid_{name.removeprefix('intake_')}"
            )
            return {name: None}
        await self.save(tracker, {DRAFT_KEYS[name]: cleaned})
        return {name: cleaned}

    async def validate_intake_name(self, value, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._free_text("intake_name", value, tracker, dispatcher)

    async def validate_intake_area(self, value, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        if not self.consented(tracker):
            area = clean_text(as_text(value), MAX_AREA_NAME_CHARS)
            return {"intake_area": area}
        return await self._free_text("intake_area", value, tracker, dispatcher)

    async def validate_intake_organisation(self, value, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._free_text("intake_organisation", value, tracker, dispatcher)

    async def validate_intake_description(self, value, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._free_text("intake_description", value, tracker, dispatcher)

    async def validate_callback_question(self, value, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        return await self._free_text("callback_question", value, tracker, dispatcher)

    async def validate_intake_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"intake_contact": None}  # cleared, not answered: nothing to say
        text = as_text(value, 400)
        email = normalize_email(text)
        phone = None if email else normalize_phone(text)
        if email:
            await self.save(tracker, {"email": email, "phone": None})
            return {CONTACT_SLOT: email, "intake_email": email, "intake_phone": None}
        if phone:
            await self.save(tracker, {"phone": phone.e164, "email": None})
            return {
                CONTACT_SLOT: phone.national,
                "intake_phone": phone.national,
                "intake_email": None,
            }
        dispatcher.utter_message(response="utter_intake_invalid_contact")
        return {CONTACT_SLOT: None}

    async def validate_intake_municipality(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:
            return {"intake_municipality": None}  # cleared, not answered: nothing to say
        match = municipalities.resolve_municipality(as_text(value, 200))
        if isinstance(match, municipalities.InRegion):
            if self.consented(tracker):
                await self.save(tracker, {"municipality": match.municipality})
            return {"intake_municipality": match.municipality}
        if isinstance(match, municipalities.OutsideRegion):
            await run_in_store(discard_draft, sender_id(tracker))
            setattr(tracker, _DRAFT_ATTRIBUTE, {})
            return {
                "intake_municipality": None,
                "intake_stopped": STOPPED_OUTSIDE_REGION,
                "intake_outside_province": match.province,
            }
        if slot(tracker, "requested_slot") != "intake_municipality":
            return {"intake_municipality": None}  # a guess from the first message: just ask
        buttons = [{"title": name, "payload": name} for name in match.suggestions]
        if buttons:
            dispatcher.utter_message(
                response="utter_intake_municipality_suggestions", buttons=buttons
            )
        elif match.province:
            dispatcher.utter_message(
                response="utter_intake_municipality_province", province=match.province
            )
        else:
            dispatcher.utter_message(response="utter_intake_invalid_municipality")
        return {"intake_municipality": None}

    async def validate_intake_role(self, value, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        if value is None:
            return {"intake_role": None}
        text = as_text(value, 200)
        role = parse_role(text) or next(
            (r for r, label in ROLE_LABELS.items() if label in _words(text).split(" ")), None
        )
        if role is None:
            dispatcher.utter_message(response="utter_intake_invalid_role")
            return {"intake_role": None}
        await self.save(tracker, {"role": ROLE_LABELS[role]})
        return {"intake_role": ROLE_LABELS[role]}

    async def validate_intake_area_kind(self, value, dispatcher, tracker, domain):  # type: ignore[no-untyped-def]
        if value is None:
            return {"intake_area_kind": None}
        text = as_text(value, 200)
        if text == "":
            await self.save(tracker, {"area_kind": ""})
            return {"intake_area_kind": ""}
        kind = parse_area_kind(text) or next(
            (k for k, label in AREA_KIND_LABELS.items() if label in _words(text)), None
        )
        if kind is None:
            dispatcher.utter_message(response="utter_intake_invalid_area_kind")
            return {"intake_area_kind": None}
        await self.save(tracker, {"area_kind": AREA_KIND_LABELS[kind]})
        return {"intake_area_kind": AREA_KIND_LABELS[kind]}


class ValidateIntakeForm(LeadFormValidation):
    ORDER = INTAKE_ORDER

    def name(self) -> str:
        return "validate_intake_form"


class ValidateCallbackForm(LeadFormValidation):
    ORDER = CALLBACK_ORDER
    INTERRUPTED_BY = INTERRUPTIONS - {"request_callback"}

    def name(self) -> str:
        return "validate_callback_form"
