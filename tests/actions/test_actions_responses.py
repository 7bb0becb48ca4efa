"""Responses filled in the action (actions/responses.py) and the rule behind them.

Every visitor-facing text lives in the domain's responses; Python only chooses a response and
formats values. These tests keep actions/status_text.py to that rule and check that every
response name it uses exists in domain.yml.
"""

from __future__ import annotations

import ast
import dataclasses
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions import responses, status, status_text
from actions.responses import FALLBACK_RESPONSE, render, response_text
from kvo.settings import REPO_ROOT
from tests.actions.action_calls import load_domain
from tests.actions.test_actions_status_text import FULL, TODAY

DOMAIN = load_domain()
FALLBACK_TEXT = DOMAIN["responses"][FALLBACK_RESPONSE][0]["text"]
MODULES = (status_text, responses, status)
RESPONSE_NAME = re.compile(r"utter_[a-z0-9_]+")
# A word of two or more lowercase letters (Dutch included) standing on its own in a text.
LOWERCASE_WORD = re.compile(r"(?<![\w{])[a-zà-ÿ]{2,}(?![\w}])")


def _domain_with(**texts: str) -> dict[str, Any]:
    return {"responses": {name: [{"text": text}] for name, text in texts.items()}}


# --- render ---------------------------------------------------------------------------------------


def test_render_fills_a_response_of_the_domain() -> None:
    assert (
        render(DOMAIN, "utter_status_line_facilitator", facilitator="Fenna Fictief")
        == "Uw procesbegeleider: Fenna Fictief."
    )


def test_values_are_filled_in_but_never_read_as_a_template() -> None:
    domain = _domain_with(utter_x="Naam: {name}.")
    assert render(domain, "utter_x", name="{0} {name} {{x}}") == "Naam: {0} {name} {{x}}."


@pytest.mark.parametrize(
    ("domain", "name"),
    [
        (_domain_with(utter_x="Naam: {nmae}.", **{FALLBACK_RESPONSE: "Niet te tonen."}), "utter_x"),
        (_domain_with(utter_x="Naam: {name!z}.", **{FALLBACK_RESPONSE: "Niet te tonen."}), "utter_x"),
        (_domain_with(utter_x="Naam: {0}.", **{FALLBACK_RESPONSE: "Niet te tonen."}), "utter_x"),
        (_domain_with(utter_x="Naam: {name.secret}.", **{FALLBACK_RESPONSE: "Niet te tonen."}), "utter_x"),
        (_domain_with(utter_x="Naam: {", **{FALLBACK_RESPONSE: "Niet te tonen."}), "utter_x"),
        (_domain_with(**{FALLBACK_RESPONSE: "Niet te tonen."}), "utter_x"),
        ({"responses": {"utter_x": [{"text": None}]}, **_domain_with(**{FALLBACK_RESPONSE: "Niet te tonen."})}, "utter_x"),
    ],
)  # fmt: skip
def test_a_missing_or_broken_response_gives_the_fallback_and_logs_only_its_name(
    domain: dict[str, Any], name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="actions.responses"):
        assert render(domain, name, name="Geheime Naam") == "Niet te tonen."
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert name in logged
    assert "Geheime Naam" not in logged and "Naam:" not in logged


@pytest.mark.parametrize(
    "domain",
    [{}, None, [], {"responses": None}, {"responses": {"utter_x": []}}, {"responses": []},
     _domain_with(**{FALLBACK_RESPONSE: "{broken}"})],
)  # fmt: skip
def test_without_any_usable_response_render_gives_an_empty_text(domain: Any) -> None:
    assert render(domain, "utter_x", name="x") == ""


def test_the_fallback_response_is_in_the_domain() -> None:
    assert response_text(DOMAIN, FALLBACK_RESPONSE)
    assert render(DOMAIN, "utter_status_line_missing_on_purpose") == FALLBACK_TEXT


# --- the report with a broken or missing domain ---------------------------------------------------


def test_a_broken_line_is_replaced_not_the_whole_report(caplog: pytest.LogCaptureFixture) -> None:
    domain = load_domain()
    domain["responses"]["utter_status_line_facilitator"] = [{"text": "Begeleider: {naam}."}]
    lines = status_text.format_status_report(FULL, TODAY, domain).split("\n")
    assert lines[-1] == FALLBACK_TEXT
    assert lines[0].startswith("Traject KVO-2024-0012: Binnenstad Terneuzen")
    assert "Ruben Proefmans" not in caplog.text


def test_without_the_word_for_and_lists_use_commas() -> None:
    domain = load_domain()
    del domain["responses"]["utter_list_and"]
    assert status_text.join_list(domain, ["a", "b", "c"]) == "a, b, c"
    assert status_text.join_list(DOMAIN, ["a", "b", "c"]) == "a, b en c"
    assert status_text.join_list(DOMAIN, ["a"]) == "a"
    assert status_text.join_list(DOMAIN, []) == ""


def test_stakeholders_other_than_the_known_kinds_are_named_as_registered() -> None:
    signatures = (
        status_text.SignatureRecord("overig", "Waterschap Scheldestromen", None),
        status_text.SignatureRecord("woningcorporatie", "Woonstichting Goes", None),
    )
    value = dataclasses.replace(FULL, convenant_signatures=signatures)
    assert (
        "Convenant: nog niet ondertekend door Waterschap Scheldestromen en Woonstichting Goes."
        in status_text.format_status_report(value, TODAY, DOMAIN).split("\n")
    )


def test_a_domain_without_responses_gives_no_report() -> None:
    assert status_text.format_status_report(FULL, TODAY, {}) == ""


# --- the rule: no visitor text in Python ---------------------------------------------------------


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def string_literals(path: Path) -> list[str]:
    """Every string in the module's code (f-strings with their {values} left as "{}"); no docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    texts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            texts.append(
                "".join(
                    part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
                )
            )
            skip.update(id(part) for part in node.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            texts.append(node.value)
    return texts


def reads_as_a_sentence(text: str) -> bool:
    """Words with a space: "de gemeente", "stap {} op {}", " en ". Not "", ", " or "januari"."""
    return bool(re.search(r"\s", text)) and bool(LOWERCASE_WORD.search(text))


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("Convenant: nog niet ondertekend door", True),
        (" en ", True),
        ("de gemeente", True),
        ("stap {} op {}", True),
        ("Let op: het certificaat is verlopen op {}. ", True),
        ("{} {} {}", False),
        (", ", False),
        ("januari", False),
        ("hercertificering", False),
        ("utter_status_line_area", False),
        ("{text}%", False),
    ],
)
def test_the_sentence_check_finds_sentences(text: str, sentence: bool) -> None:
    assert reads_as_a_sentence(text) is sentence


def test_no_dutch_sentence_is_left_in_the_status_text_module() -> None:
    path = Path(status_text.__file__)
    found = [text for text in string_literals(path) if reads_as_a_sentence(text)]
    assert found == []
    # The check sees the strings at all: the module's names of responses are among them.
    assert "utter_status_line_area" in string_literals(path)


def test_the_old_status_text_would_have_failed_the_check(tmp_path: Path) -> None:
    old = tmp_path / "old.py"
    old.write_text(
        'def line(day):\n    """Docstrings may say what they like."""\n'
        '    return f"Schouw: gepland op {day}."\n',
        encoding="utf-8",
    )
    assert [t for t in string_literals(old) if reads_as_a_sentence(t)] == ["Schouw: gepland op {}."]


def _response_names(module: Any) -> set[str]:
    names = set()
    for text in string_literals(Path(module.__file__)):
        names.update(RESPONSE_NAME.findall(text))
    return names


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__)
def test_every_response_the_module_names_is_in_the_domain(module: Any) -> None:
    names = _response_names(module)
    assert names
    missing = sorted(names - set(DOMAIN["responses"]))
    assert missing == []


def test_every_status_line_in_the_domain_is_used() -> None:
    used = set().union(*(_response_names(module) for module in MODULES))
    in_domain = {
        name
        for name in DOMAIN["responses"]
        if name.startswith(
            ("utter_status_line_", "utter_status_stakeholder_", "utter_status_trajectory_")
        )
    }
    assert len(in_domain) > 25
    assert sorted(in_domain - used) == []


def test_rasa_sends_the_domain_with_every_action_call() -> None:
    # The report is filled from the domain that comes with the call; with a selective domain
    # Rasa would leave it out.
    for relative in ("endpoints.yml", "deploy/endpoints.production.yml"):
        path = REPO_ROOT / relative
        if path.exists():
            endpoint = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(
                "action_endpoint"
            ) or {}
            assert not endpoint.get("enable_selective_domain"), relative


def literal_button_titles(path: Path) -> list[str]:
    """Titles written into the code: ``{"title": "Andere week", ...}``."""
    titles = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "title"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    titles.append(value.value)
    return titles


def test_no_button_title_is_written_in_an_action() -> None:
    modules = sorted((REPO_ROOT / "actions").glob("*.py"))
    assert len(modules) > 10
    found = {path.name: literal_button_titles(path) for path in modules}
    assert {name: titles for name, titles in found.items() if titles} == {}


def test_the_title_check_finds_a_title_in_code(tmp_path: Path) -> None:
    old = tmp_path / "old.py"
    old.write_text('BUTTON = {"title": "Bel mij liever", "payload": "/request_callback"}\n')
    assert literal_button_titles(old) == ["Bel mij liever"]
