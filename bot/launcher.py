"""Starts the whole assistant in the foreground: engine, action server, mail (see Procfile).

honcho runs the processes, prefixes their logs and stops all of them on Ctrl-C. This launcher
generates the per-run secrets that are not set (ACTION_SERVER_TOKEN: engine -> action server;
PVO_SESSION_SECRET: signs chat session ids), waits until the engine's channel port answers (the
engine's HTTP API is closed, and the port opens once the model is loaded) and then prints how to
talk to the bot. With --shell it starts the action server and opens Rasa's terminal chat instead.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
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


def actions_port() -> int:
    """The action server's port. endpoints.yml points the engine at PVO_ACTIONS_PORT, and the
    action server reads it too; set here so `rasa shell` (which reads endpoints.yml) finds it."""
    return int(os.environ.setdefault("PVO_ACTIONS_PORT", "5055"))


# A demo trajectory in phase 2, with survey and schouw: a good first status check.
BANNER_DEMO_REFERENCE = "KVO-2024-0031"


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL only
            return response.read()
    except OSError:
        return None


def wait_until_ready(url: str, timeout: float, process: subprocess.Popen[bytes]) -> bool:
    """True once the channel at `url` answers; False if `process` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        body = _get(url)
        if body is not None and b'"ok"' in body:
            return True
        time.sleep(1)
    return False


# Secrets a run needs; generated per run when not set (production sets them itself).
PER_RUN_SECRETS = ("ACTION_SERVER_TOKEN", "PVO_SESSION_SECRET", "PVO_API_SECRET")


def ensure_run_secrets(env: dict[str, str] | os._Environ[str]) -> list[str]:
    """Fill the unset per-run secrets in `env` with random values; returns the names filled."""
    filled = []
    for name in PER_RUN_SECRETS:
        if not env.get(name, "").strip():
            env[name] = secrets.token_urlsafe(32)
            filled.append(name)
    return filled


def banner(rasa_port: int) -> str:
    demo = next(d for d in DEMO_TRAJECTORIES if d.reference == BANNER_DEMO_REFERENCE)
    webhook = f"http://localhost:{rasa_port}/webhooks/rest/webhook"
    api_port = os.environ.get("PVO_API_PORT", "8000")
    return f"""
================================================================================
 PVO-assistent is ready.
   Chat over HTTP (REST channel):
     curl -s {webhook} \\
       -H 'Content-Type: application/json' \\
       -d '{{"sender": "demo", "message": "Wat is het Keurmerk Veilig Ondernemen?"}}'
   Chat in a terminal:      make shell   (in another terminal, or instead of make run)
   socket.io (chat widget): http://localhost:{rasa_port}/socket.io
   Website with the chat button: http://localhost:{api_port}/
   Staff dashboard:         http://localhost:{api_port}/dashboard/  (first create an account:
                            .venv/bin/python -m kvo users add <name> --role admin)
   Demo status check:       "status {demo.reference}", access code {demo.access_code} (README lists more)
   Mails (local SMTP sink): var/mail/  (staff, visitor and facilitator mails of intakes)
   Stop:                    Ctrl-C
================================================================================
"""


# Where the local SMTP sink delivers intake mails to PVO staff; only used when no real SMTP server
# is configured (PVO_SMTP_HOST unset), so a newcomer sees every mail under var/mail/.
DEMO_STAFF_MAILBOXES = {
    "PVO_STAFF_EMAIL_ZWB": "intake-zeeland-west-brabant@pvo.example",
    "PVO_STAFF_EMAIL_OB": "intake-oost-brabant@pvo.example",
}


def use_demo_staff_mailboxes(env: dict[str, str] | os._Environ[str]) -> None:
    if env.get("PVO_SMTP_HOST"):
        return
    for name, address in DEMO_STAFF_MAILBOXES.items():
        env.setdefault(name, address)


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def busy_ports(*ports: int) -> list[int]:
    busy = [port for port in ports if port_in_use(port)]
    for port in busy:
        print(
            f"Port {port} is already in use: is the assistant (or another program) already"
            " running? Stop it first, or choose other ports (RASA_PORT, PVO_ACTIONS_PORT,"
            " PVO_API_PORT, PVO_SMTP_PORT).",
            file=sys.stderr,
        )
    return busy


def run_stack() -> int:
    rasa_port = int(os.environ.setdefault("RASA_PORT", "5005"))
    # The demo page's chat button talks to this engine.
    os.environ.setdefault("PVO_CHAT_SERVER_URL", f"http://localhost:{rasa_port}")
    api_port = int(os.environ.get("PVO_API_PORT", "8000"))
    smtp_sink_port = int(os.environ.get("PVO_SMTP_PORT", "8025"))
    if busy_ports(rasa_port, actions_port(), api_port, smtp_sink_port):
        return 1
    ensure_run_secrets(os.environ)
    use_demo_staff_mailboxes(os.environ)
    print("Starting the engine and the action server; loading the model takes about 30 s.")
    honcho = subprocess.Popen([str(HONCHO), "start", "-f", str(REPO / "Procfile")], cwd=REPO)  # noqa: S603
    # A SIGTERM or a closed terminal sent to the launcher alone (a service manager, `kill`) must
    # stop the servers too, not leave them running without it.
    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, lambda *_: honcho.terminate())
    try:
        ready_url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/"
        if wait_until_ready(ready_url, READY_TIMEOUT_SECONDS, honcho):
            print(banner(rasa_port), flush=True)
        return honcho.wait()
    except KeyboardInterrupt:
        # A Ctrl-C in the terminal reaches honcho as well; a SIGINT to the launcher alone does not.
        honcho.terminate()
        return honcho.wait()


def run_shell() -> int:
    if busy_ports(actions_port()):
        return 1
    # A closed terminal (SIGHUP) or SIGTERM must not leave the two servers behind.
    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, lambda *_: sys.exit(1))
    ensure_run_secrets(os.environ)
    actions = subprocess.Popen(
        [sys.executable, "-m", "actions.server"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    shell = None
    try:
        command = [str(RASA), "shell", "--model", str(MODEL), "--endpoints", "endpoints.yml"]
        shell = subprocess.Popen(command, cwd=REPO)  # noqa: S603
        return shell.wait()
    finally:
        for process in (shell, actions):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shell", action="store_true", help="chat in this terminal instead")
    args = parser.parse_args()
    return run_shell() if args.shell else run_stack()


if __name__ == "__main__":
    sys.exit(main())
