"""A complete intake booking over the REST channel of the running assistant, end to end.

One conversation from "ik wil een intake" to "geboekt", the way a visitor types it (details given
in the first message, an optional question skipped, the first offered slot chosen). Reports the
number of visitor messages (goal: at most 10), the total time and the slowest answer. Run it a few
times with --runs to see the spread; each run books one slot in the demo data.

Usage (start the assistant first with `make run`):

    .venv/bin/python bench/booking_conversation.py
    .venv/bin/python bench/booking_conversation.py --url http://127.0.0.1:5005 --runs 3

All runs come from one address, so the daily booking limit per client applies (3 unless
PVO_BOOKINGS_PER_CLIENT_PER_DAY says otherwise): for more runs in a day, start the assistant with
e.g. `PVO_BOOKINGS_PER_CLIENT_PER_DAY=100 make run`.

Only loopback targets are accepted. Exit 0 with a report (also when the goal is missed), 1 when
the conversation did not end in a booking, 2 when the assistant is not reachable.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

DEFAULT_URL = "http://localhost:5005"
WEBHOOK_PATH = "/webhooks/rest/webhook"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
GOAL_MESSAGES = 10
REFERENCE_RE = re.compile(r"\bINT-[A-Z0-9]{6}\b")
# What the visitor types; None stands for "press the first slot button".
SCRIPT: tuple[str | None, ...] = (
    "ik wil een intake voor De Hurk in Eindhoven",
    "ja",
    "Benchmark Bezoeker",
    "bench.bezoeker@voorbeeld.nl",
    "ondernemer",
    "/skip",
    "bedrijventerrein",
    "wij willen starten met het KVO",
    None,
    "/confirm_booking",
)


@dataclass
class Result:
    messages: int
    seconds: float
    slowest_ms: float
    reference: str | None


class NotBooked(RuntimeError):
    pass


def run_once(client: httpx.Client, url: str, run: int) -> Result:
    sender = f"bench-booking-{uuid.uuid4().hex[:12]}"
    last: list[dict] = []
    slowest = 0.0
    started = time.perf_counter()
    sent = 0
    for typed in SCRIPT:
        if typed is None:
            payloads = [
                b["payload"]
                for m in last
                for b in m.get("buttons") or []
                if b.get("payload", "").startswith("/choose_slot")
            ]
            if not payloads:
                raise NotBooked("no slot was offered")
            typed = payloads[0]
        elif "@" in typed:
            # A new address per run: the per-address daily limit would stop repeated runs.
            typed = typed.replace("@", f"+{run}-{uuid.uuid4().hex[:6]}@")
        before = time.perf_counter()
        reply = client.post(url, json={"sender": sender, "message": typed}, timeout=30)
        slowest = max(slowest, time.perf_counter() - before)
        reply.raise_for_status()
        last = reply.json()
        sent += 1
    elapsed = time.perf_counter() - started
    text = "\n".join(m.get("text") or "" for m in last)
    if "geboekt" not in text:
        raise NotBooked(f"the last answer does not say 'geboekt' but: {text[:120]!r}")
    found = REFERENCE_RE.search(text)
    return Result(sent, elapsed, slowest * 1000, found.group(0) if found else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="Rasa server (loopback only)")
    parser.add_argument("--runs", type=int, default=1, choices=range(1, 21), metavar="1..20")
    args = parser.parse_args(argv)
    if urlsplit(args.url).hostname not in LOOPBACK_HOSTS:
        print("Only a loopback URL is accepted.", file=sys.stderr)
        return 2
    url = args.url.rstrip("/") + WEBHOOK_PATH
    results = []
    with httpx.Client() as client:
        for run in range(args.runs):
            try:
                results.append(run_once(client, url, run))
            except httpx.HTTPError as error:
                print(
                    f"Assistant not reachable at {args.url}: {type(error).__name__}",
                    file=sys.stderr,
                )
                return 2
            except NotBooked as problem:
                print(f"Run {run + 1}: no booking ({problem}).", file=sys.stderr)
                return 1
    for number, result in enumerate(results, 1):
        goal = "ok" if result.messages <= GOAL_MESSAGES else "MISSED"
        print(
            f"run {number}: {result.messages} visitor messages (goal <= {GOAL_MESSAGES}: {goal}),"
            f" {result.seconds:.2f} s in total, slowest answer {result.slowest_ms:.0f} ms,"
            f" booked {result.reference}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
