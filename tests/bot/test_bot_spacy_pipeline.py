"""The Dutch spaCy pipeline build (bot/spacy_pipeline.py), run with the engine's interpreter."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import ENGINE_PYTHON, REPO, require

PROBE = """
import json, sys, spacy
nlp = spacy.load(sys.argv[1])
doc = nlp(sys.argv[2])
print(json.dumps({
    "lang": nlp.lang,
    "pipes": nlp.pipe_names,
    "tokens": [t.text for t in doc],
    "lemmas": [t.lemma_ for t in doc],
    "stop": [t.is_stop for t in doc],
}))
"""


def engine(*args: str) -> subprocess.CompletedProcess[str]:
    require(ENGINE_PYTHON.exists(), "engine environment missing: run `make setup`")
    return subprocess.run(
        [str(ENGINE_PYTHON), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore", "PATH": "/usr/bin:/bin"},
    )


def build(output: Path, base: str) -> subprocess.CompletedProcess[str]:
    return engine("bot/spacy_pipeline.py", "--output", str(output), "--base", base)


def probe(pipeline: Path, text: str) -> dict:
    result = engine("-c", PROBE, str(pipeline), text)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def blank_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("spacy") / "nl_pvo"
    result = build(output, "blank")
    assert result.returncode == 0, result.stderr[-2000:]
    return output


def test_blank_build_is_dutch_with_a_lookup_lemmatizer(blank_pipeline: Path) -> None:
    meta = json.loads((blank_pipeline / "meta.json").read_text())
    assert meta["lang"] == "nl"
    assert meta["name"] == "nl_pvo"
    result = probe(blank_pipeline, "De ondernemers kregen certificaten voor bedrijventerreinen")
    assert result["pipes"] == ["lemmatizer"]
    lemmas = dict(zip(result["tokens"], result["lemmas"], strict=True))
    assert lemmas["certificaten"] == "certificaat"
    assert lemmas["kregen"] == "krijgen"
    assert lemmas["bedrijventerreinen"] == "bedrijventerrein"
    assert dict(zip(result["tokens"], result["stop"], strict=True))["De"] is True


def test_tokenizer_keeps_punctuation_apart(blank_pipeline: Path) -> None:
    result = probe(blank_pipeline, "Wat kost het KVO?")
    assert result["tokens"] == ["Wat", "kost", "het", "KVO", "?"]


def test_rebuild_replaces_the_pipeline_atomically(blank_pipeline: Path) -> None:
    before = (blank_pipeline / "meta.json").read_text()
    assert build(blank_pipeline, "blank").returncode == 0
    assert (blank_pipeline / "meta.json").read_text() == before
    assert not blank_pipeline.with_name("nl_pvo.tmp").exists()


def test_unknown_base_is_refused(tmp_path: Path) -> None:
    result = build(tmp_path / "x", "en_core_web_sm")
    assert result.returncode != 0
    assert not (tmp_path / "x").exists()


def test_build_from_nl_core_news_sm_when_installed(tmp_path: Path) -> None:
    installed = engine(
        "-c", "import importlib.util as u; print(bool(u.find_spec('nl_core_news_sm')))"
    )
    if installed.stdout.strip() != "True":
        result = build(tmp_path / "nl_pvo", "nl_core_news_sm")
        assert result.returncode == 2 and "not installed" in result.stderr
        pytest.skip(
            "nl_core_news_sm is not installed in .venv-rasa (it is not on the package registries;"
            " with internet: .venv-rasa/bin/python -m spacy download nl_core_news_sm)"
        )
    output = tmp_path / "nl_pvo"
    assert build(output, "nl_core_news_sm").returncode == 0
    result = probe(output, "PVO Brabant-Zeeland helpt ondernemers in Breda.")
    assert "ner" in result["pipes"]
    assert result["lemmas"][result["tokens"].index("ondernemers")] == "ondernemer"
