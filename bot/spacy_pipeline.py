"""Builds the Dutch spaCy pipeline that Rasa's SpacyNLP loads (see config.yml).

Runs with the engine's interpreter (.venv-rasa), so the pipeline is saved by the same spaCy version
that Rasa loads it with. spaCy's trained Dutch models are not on the package registries; by default
the pipeline is spaCy's built-in Dutch (tokenizer, stop words) with a lookup lemmatizer whose tables
come from the spacy-lookups-data package. Where nl_core_news_sm is installed, the build starts from
it instead and so also gains its tagger, parser and named entities. Nothing is downloaded.

Usage: python bot/spacy_pipeline.py --output var/spacy/nl_pvo [--base auto|blank|nl_core_news_sm]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # spaCy is imported lazily: it pulls in TensorFlow, seconds of start-up
    from spacy.language import Language

TRAINED_BASE = "nl_core_news_sm"
PIPELINE_NAME = "nl_pvo"


def trained_base_available() -> bool:
    return importlib.util.find_spec(TRAINED_BASE) is not None


def build_pipeline(base: str = "auto") -> Language:
    """The Dutch pipeline: from nl_core_news_sm when asked for or available, else blank Dutch."""
    import spacy

    if base == TRAINED_BASE or (base == "auto" and trained_base_available()):
        nlp = spacy.load(TRAINED_BASE)
    elif base in ("auto", "blank"):
        nlp = spacy.blank("nl")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        # Loads the Dutch lookup table from spacy-lookups-data (installed, never downloaded).
        nlp.initialize()
    else:
        raise ValueError(f"unknown base {base!r}: use auto, blank or {TRAINED_BASE}")
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["description"] = (
        f"PVO-assistent Dutch pipeline (base: {nlp.meta.get('sources') or 'blank nl'})"
    )
    return nlp


def save_pipeline(nlp: Language, output: Path) -> None:
    """Writes the pipeline to `output` atomically, so a half-written folder never looks finished."""
    staging = output.with_name(output.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    nlp.to_disk(staging)
    shutil.rmtree(output, ignore_errors=True)
    staging.rename(output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--base", default="auto", choices=["auto", "blank", TRAINED_BASE])
    args = parser.parse_args(argv)
    if args.base == TRAINED_BASE and not trained_base_available():
        print(
            f"{TRAINED_BASE} is not installed in this environment. Install it where you have internet"
            f" access (python -m spacy download {TRAINED_BASE}) or build with --base blank.",
            file=sys.stderr,
        )
        return 2
    nlp = build_pipeline(args.base)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_pipeline(nlp, args.output)
    components = ", ".join(nlp.pipe_names) or "tokenizer only"
    print(f"Saved Dutch spaCy pipeline to {args.output} (components: {components})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
