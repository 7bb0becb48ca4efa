"""Starts the whole assistant in the foreground: Rasa server and action server (see Procfile).

honcho runs the processes, prefixes their logs and stops all of them on Ctrl-C. This launcher only
waits until the Rasa server has loaded its model and then prints how to talk to the bot.
With --shell it starts the action server and opens Rasa's terminal chat instead.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from kvo.demo_data import DEMO_TRAJECTORIES

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "pvo-assistent.tar.gz"
RASA = REPO / ".venv-rasa" / "bin" / "rasa"
HONCHO = REPO / ".venv" / "bin" / "honcho"
READY_TIMEOUT_SECONDS = 180
# A demo trajectory in phase 2, with survey and schouw: a good first status check.
BANNER_DEMO_REFERENCE = "KVO-2024-0031"


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL only
            return response.read()
    except OSError:
        return None


def wait_until_ready(url: str, timeout: float, process: subprocess.Popen[bytes]) -> bool:
    """True once `url` answers with a loaded model; False if `process` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        body = _get(url)
        if body is not None and b'"model_file"' in body:
            return True
        time.sleep(1)
    return False


def banner(rasa_port: int) -> str:
    demo = next(d for d in DEMO_TRAJECTORIES if d.reference == BANNER_DEMO_REFERENCE)
    webhook = f"http://localhost:{rasa_port}/webhooks/rest/webhook"
    return f"""
================================================================================
 PVO-assistent is ready.
   Chat over HTTP (REST channel):
     curl -s {webhook} \\
       -H 'Content-Type: application/json' \\
       -d '{{"sender": "demo", "message": "Wat is het Keurmerk Veilig Ondernemen?"}}'
   Chat in a terminal:      make shell   (in another terminal, or instead of make run)
   socket.io (chat widget): http://localhost:{rasa_port}/socket.io
   Demo status check:       "status {demo.reference}", access code {demo.access_code} (README lists more)
   Stop:                    Ctrl-C
================================================================================
"""


def run_stack() -> int:
    rasa_port = int(os.environ.setdefault("RASA_PORT", "5005"))
    print("Starting the Rasa server and the action server; loading the model takes about 30 s.")
    honcho = subprocess.Popen([str(HONCHO), "start", "-f", str(REPO / "Procfile")], cwd=REPO)  # noqa: S603
    try:
        if wait_until_ready(f"http://localhost:{rasa_port}/status", READY_TIMEOUT_SECONDS, honcho):
            print(banner(rasa_port), flush=True)
        return honcho.wait()
    except KeyboardInterrupt:
        # honcho receives the same Ctrl-C and stops both servers; wait for it to finish.
        return honcho.wait()


def run_shell() -> int:
    actions_port = os.environ.get("ACTIONS_PORT", "5055")
    actions = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", actions_port],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    try:
        shell = [str(RASA), "shell", "--model", str(MODEL), "--endpoints", "endpoints.yml"]
        return subprocess.call(shell, cwd=REPO)  # noqa: S603
    finally:
        actions.terminate()
        actions.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shell", action="store_true", help="chat in this terminal instead")
    args = parser.parse_args()
    return run_shell() if args.shell else run_stack()


if __name__ == "__main__":
    sys.exit(main())
