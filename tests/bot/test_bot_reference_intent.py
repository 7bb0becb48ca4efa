"""bot/reference_intent.py finds a KVO reference anywhere in a message, as the engine loads it."""

from __future__ import annotations

import json
import subprocess

from tests.support import ENGINE_PYTHON, REPO, require

MESSAGES = {
    "Hoe staat het ervoor met het buitengebied van Goes? KVO-2025-0026": True,
    "ref KVO/2024/7": True,
    "wilt u kijken naar kvo 2024 31, de code is WVZ4-LWUX": True,
    "kvo2024 12 volgens mij": True,
    "wat kost het kvo in 2024?": False,
    "helpt het KVO tegen inbraken?": False,
    "KVO-1999-0001": False,
}


def test_references_in_sentences_are_found_by_the_engine_component() -> None:
    require(ENGINE_PYTHON.exists(), "the engine environment is not set up (make setup)")
    script = (
        "import json, sys\n"
        "from bot.reference_intent import names_reference\n"
        "texts = json.loads(sys.stdin.read())\n"
        "print(json.dumps({t: names_reference(t) for t in texts}))\n"
    )
    result = subprocess.run(
        [str(ENGINE_PYTHON), "-c", script],
        input=json.dumps(list(MESSAGES)),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == MESSAGES
