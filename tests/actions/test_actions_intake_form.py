"""The intake form's reading of free text, and that every intake text exists as a response."""

from __future__ import annotations

import re

import pytest
import yaml

from actions.intake_form import (
    FREE_TEXT,
    INTAKE_ORDER,
    is_callback,
    is_clear_question,
    is_skip,
    is_stop,
    mentioned_area,
)
from kvo.settings import REPO_ROOT


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("een intake voor De Hurk in Eindhoven", "De Hurk"),
        (
            "ik wil een intake voor bedrijventerrein Hoogeind in Helmond",
            "bedrijventerrein Hoogeind",
        ),
        ("graag een intake voor het centrum te Goes", "centrum"),
        ("ik wil een intake", None),
        ("een intake voor een afspraak in Breda", None),
    ],
)
def test_the_area_is_taken_from_the_first_message(text: str, area: str | None) -> None:
    assert mentioned_area(text) == area


@pytest.mark.parametrize(
    ("text", "intent", "question"),
    [
        ("wij willen starten met het KVO", "book_intake", False),
        ("Sanne de Vries", "greet", False),
        ("wat kost het keurmerk?", "faq", True),
        ("hoe lang duurt het traject", "faq", True),
        ("is dit genoeg", "inform", False),
    ],
)
def test_only_clear_questions_are_held_back(text: str, intent: str, question: bool) -> None:
    assert is_clear_question(text, intent) is question


def test_control_words() -> None:
    assert is_stop("Laat maar.", None) and is_stop("iets", "stop") and is_stop("x", "emergency")
    assert not is_stop("Stoppel", None)
    assert is_skip("overslaan", None) and is_skip("Sla over", None) and is_skip("x", "skip")
    assert not is_skip("De Hurk", None)


def test_a_wish_to_be_called_back() -> None:
    # Free text: only the words themselves ("Bel" may be a surname); fixed answers: the intent too.
    assert is_callback("Bel mij liever.", "inform", free_text=True)
    assert not is_callback("Jan Bel", "request_callback", free_text=True)
    assert is_callback("kunt u mij niet gewoon bellen?", "request_callback", free_text=False)
    assert not is_callback("Eindhoven", "inform", free_text=False)


def _responses() -> set[str]:
    names: set[str] = set()
    for path in [REPO_ROOT / "domain.yml", *(REPO_ROOT / "data" / "responses").glob("*.yml")]:
        names |= set((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses", {}))
    return names


def test_every_intake_response_the_actions_name_exists() -> None:
    responses = _responses()
    used: set[str] = set()
    for module in ("intake", "intake_form", "callback", "manage_booking"):
        source = (REPO_ROOT / "actions" / f"{module}.py").read_text(encoding="utf-8")
        used |= set(re.findall(r'response="(utter_[a-z_]+)"', source))
    used |= {f"utter_intake_invalid_{name.removeprefix('intake_')}" for name in FREE_TEXT}
    used |= {f"utter_intake_mode_{mode}" for mode in ("op_locatie", "telefonisch", "video")}
    used |= {f"utter_manage_intro_{action}" for action in ("cancel", "move")}
    used |= {f"utter_ask_{name}" for name in INTAKE_ORDER}
    used |= {"utter_ask_callback_question", "utter_ask_intake_question_check"}
    assert used - responses == set()
