"""Chat load benchmark for the running PVO-assistent (Rasa REST channel).

Drives the bot with realistic Dutch visitor conversations (greeting, questions about the Keurmerk
Veilig Ondernemen, one out-of-scope question, a thank-you and a goodbye), each conversation with its
own sender id. It runs one phase per concurrency level (by default 1, then 20 concurrent
conversations), each bounded by a number of messages and a hard time limit, after an uncounted
warm-up. Per phase it reports messages sent, errors, p50/p95/p99 latency and throughput; it also
reports the resident memory of the Rasa server process and compares everything with the goals:

    * p95 latency <= 100 ms with 1 conversation
    * >= 40 messages/s with 20 concurrent conversations, and zero errors
    * Rasa server RSS <= 1.5 GiB
    * beside maximum-size messages, the normal messages' p95 at 20 conversations stays within 10%
      of the same load without them (--heavy-clients clients alternate messages of 1,000
      characters, the channel's limit, and bodies just under the engine's 64 KB limit)

The p95 of one 20-conversation phase varies by up to 10% from one phase to the next on the same
stack with no maximum-size clients at all, and drifts over a sitting, so that comparison runs
--heavy-rounds rounds of a phase with and a phase without them, in the order without, with, with,
without (repeated: with an even number of rounds both sides run equally late on average), and
compares the p95 of all their messages pooled per side.

Our channels answer some messages themselves (rate limit, reply deadline, message too long, the
long-message lane full) and mark those answers with `notice`; the benchmark counts them as errors
in the normal conversations and lists them per kind for the maximum-size clients. All its conversations come
from one address, so start the assistant with a high rate limit for benchmarking:
`PVO_RATE_LIMIT=100000/minute make run`.

Status checks (reference + access code) are deliberately left out: they include a deliberate
~50 ms argon2 hash check, which is not what this chat benchmark measures.

The script only reports: it exits 0 even when a goal is missed, 2 when the bot is not reachable or
the arguments are invalid. Only loopback targets are accepted.

Usage (start the assistant first with `make run`):

    .venv/bin/python bench/chat_load.py
    .venv/bin/python bench/chat_load.py --concurrency 1,5,20 --messages 300,1000,2000
    .venv/bin/python bench/chat_load.py --max-seconds 60 --json var/bench/chat_load.json
    .venv/bin/python bench/chat_load.py --url http://127.0.0.1:5005 --rasa-pid 12345

`make benchmark` runs it with the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

DEFAULT_URL = "http://localhost:5005"
WEBHOOK_PATH = "/webhooks/rest/webhook"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
EXIT_UNREACHABLE = 2

# Goals the benchmark compares against.
GOAL_P95_MS_SINGLE = 100.0
GOAL_SINGLE_CONCURRENCY = 1
GOAL_RATE_MSGS_PER_S = 40.0
GOAL_RATE_CONCURRENCY = 20
GOAL_RSS_BYTES = int(1.5 * 1024**3)

STATUS_CHECK_NOTE = (
    "Status checks (reference + access code) are left out on purpose: they include a deliberate "
    "~50 ms argon2 hash check. This benchmark measures chat (NLU + dialogue) only."
)

# --------------------------------------------------------------------------------------------------
# Scenario: what Dutch visitors of the PVO website ask. Every phrasing was checked against the
# model's NLU (POST /model/parse) to land on the intended intent, and none routes to the status
# check (e.g. "wanneer is onze audit" would, so audit questions stay generic).
# --------------------------------------------------------------------------------------------------

GREETINGS: tuple[str, ...] = (
    "goedemorgen",
    "hallo",
    "hoi, ik heb een vraag",
    "goedemiddag",
    "goedendag",
)

FAQ_QUESTIONS: dict[str, tuple[str, ...]] = {
    "wat_is_kvo": (
        "wat is het Keurmerk Veilig Ondernemen precies?",
        "wat houdt het KVO in voor ons winkelcentrum?",
    ),
    "stappen": (
        "welke stappen moeten we doorlopen om het keurmerk te halen?",
        "hoe verloopt zo'n KVO-traject?",
        "hoe gaan we te werk als we het keurmerk willen?",
    ),
    "kosten_subsidie": (
        "wat kost het keurmerk?",
        "is er subsidie voor het kvo traject?",
        "moeten we als ondernemers zelf betalen voor het traject?",
    ),
    "verzekering_korting": (
        "krijg ik korting op mijn verzekering als we het keurmerk hebben?",
        "levert het keurmerk premiekorting op bij de verzekeraar?",
        "hoeveel korting geeft de verzekeraar ongeveer?",
    ),
    "doorlooptijd": (
        "hoe lang duurt het traject ongeveer?",
        "hoeveel maanden zijn we ermee bezig voordat we het certificaat hebben?",
    ),
    "certificering_audit": (
        "wie voert de audit uit?",
        "hoe werkt de certificering door Kiwa?",
        "wie controleert of we aan de eisen voldoen?",
    ),
    "sterren": (
        "wat betekenen de sterren bij het keurmerk?",
        "hoe halen we een tweede ster?",
        "wat moet je doen voor een derde ster?",
    ),
    "geldigheid_hercertificering": (
        "hoe lang is het certificaat geldig?",
        "wat gebeurt er als het certificaat verloopt?",
    ),
    "deelnemers_eisen": ("wie moeten er allemaal meedoen aan het KVO?",),
    "veiligheidsanalyse_schouw": ("wat is een veiligheidsanalyse of schouw?",),
    "resultaten_effect": ("wat levert het keurmerk op aan resultaten?",),
    "pvo_contact": ("wat doet het Platform Veilig Ondernemen eigenlijk?",),
}

OUT_OF_SCOPE: tuple[str, ...] = (
    "wat voor weer wordt het morgen?",
    "heb je een recept voor appeltaart?",
    "hoe laat speelt PSV vanavond?",
    "waar kan ik een nieuwe fiets kopen?",
    "wat is de hoofdstad van Spanje?",
)

THANKS: tuple[str, ...] = (
    "bedankt voor de informatie",
    "dank u wel, dat was duidelijk",
    "top, dankjewel",
    "super, bedankt voor uw hulp",
)

GOODBYES: tuple[str, ...] = (
    "tot ziens",
    "fijne dag nog",
    "doei",
    "prettige avond verder",
)

SCENARIO_DESCRIPTION = (
    "Dutch visitor conversations of 7-9 turns: greeting, 3-5 FAQ questions on different KVO "
    f"topics ({len(FAQ_QUESTIONS)} topics), one out-of-scope question, thank-you, goodbye; "
    "each conversation has its own sender id (uuid)."
)


class ConversationFactory:
    """Builds varied, reproducible visitor conversations (lists of user messages)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def next_conversation(self) -> list[str]:
        rng = self._rng
        topics = rng.sample(sorted(FAQ_QUESTIONS), k=rng.randint(3, 5))
        questions = [rng.choice(FAQ_QUESTIONS[topic]) for topic in topics]
        # The out-of-scope question comes somewhere after the first FAQ question.
        questions.insert(rng.randint(1, len(questions)), rng.choice(OUT_OF_SCOPE))
        return [rng.choice(GREETINGS), *questions, rng.choice(THANKS), rng.choice(GOODBYES)]


# --------------------------------------------------------------------------------------------------
# Rasa server process and its memory (Linux /proc).
# --------------------------------------------------------------------------------------------------


@dataclass
class MemorySample:
    rss_bytes: int
    hwm_bytes: int


def listening_socket_inodes(port: int) -> set[str]:
    """Inodes of TCP sockets in LISTEN state on `port` (IPv4 and IPv6)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local_address, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local_address.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def pids_holding_sockets(inodes: set[str]) -> list[int]:
    """PIDs of the processes (visible to us) that have one of the socket inodes open."""
    wanted = {f"socket:[{inode}]" for inode in inodes}
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    pids.append(int(entry.name))
                    break
        except OSError:  # process ended, or not ours to inspect
            continue
    return sorted(pids)


def find_listening_pids(port: int) -> list[int]:
    inodes = listening_socket_inodes(port)
    return pids_holding_sockets(inodes) if inodes else []


def read_memory(pid: int) -> MemorySample | None:
    """VmRSS and VmHWM of `pid` from /proc/<pid>/status, or None if unavailable."""
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        return None
    if "VmRSS" not in values or "VmHWM" not in values:
        return None
    return MemorySample(rss_bytes=values["VmRSS"], hwm_bytes=values["VmHWM"])


def process_name(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    words = raw.rstrip(b"\0").split(b"\0")
    return " ".join(w.decode(errors="replace") for w in words)[:80] or "?"


class MemoryMonitor:
    """Samples the Rasa server's RSS once a second while the benchmark runs."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.pid = pid
        self.interval = interval
        self.max_rss_bytes = 0
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> MemorySample | None:
        sample = read_memory(self.pid)
        if sample is not None:
            self.max_rss_bytes = max(self.max_rss_bytes, sample.rss_bytes)
        return sample

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


# --------------------------------------------------------------------------------------------------
# Load phases.
# --------------------------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    concurrency: int
    message_budget: int
    max_seconds: float
    sent: int = 0
    ok: int = 0
    errors: int = 0
    aborted_at_time_limit: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    conversations_started: int = 0
    wall_seconds: float = 0.0
    hit_time_limit: bool = False
    messages_per_second: float = 0.0
    latency_ms: dict[str, float | None] = field(default_factory=dict)
    heavy_clients: int = 0
    heavy: dict[str, Any] = field(default_factory=dict)
    # The comparison round this phase belongs to (0: none), and its latencies for pooling.
    round: int = 0
    samples_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        name = f"{self.concurrency} conv." + (" + max-size" if self.heavy_clients else "")
        return name + (f" #{self.round}" if self.round else "")

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "samples_ms"} | {"name": self.name}


# Maximum-size input for the heavy phase: the longest message the channel passes to the NLU
# (PVO_MAX_MESSAGE_CHARS, 1,000) and a body just under the engine's 64 KB limit.
MAX_MESSAGE_TEXT = ("wat kost het keurmerk veilig ondernemen voor ons bedrijventerrein? " * 20)[
    :1000
]
MAX_BODY_TEXT = "a" * (64 * 1024 - 200)
GOAL_HEAVY_P95_RATIO = 1.10


@dataclass
class HeavyStats:
    """What the maximum-size clients sent and got back during a phase."""

    sent: int = 0
    chars: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    def record(self, chars: int, kind: str, latency_ms: float) -> None:
        self.sent += 1
        self.chars[chars] += 1
        self.kinds[kind] += 1
        self.latencies_ms.append(latency_ms)

    def summary(self) -> dict[str, Any]:
        latencies = sorted(self.latencies_ms)
        return {
            "sent": self.sent,
            "answers": dict(self.kinds.most_common()),
            "p95_ms": percentile(latencies, 95),
        }


@dataclass
class _PhaseState:
    claimed: int = 0
    ok: int = 0
    conversations: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def finished(self) -> int:
        return self.ok + sum(self.errors.values())


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Linear-interpolated percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def reply_is_empty(payload: Any) -> bool:
    """A REST reply counts when it is a list with at least one message that carries content."""
    if not isinstance(payload, list):
        return True
    content_keys = ("text", "image", "buttons", "custom", "attachment")
    return not any(isinstance(m, dict) and any(m.get(k) for k in content_keys) for m in payload)


def reply_notice(payload: Any) -> str | None:
    """The `notice` our channels put on answers they give themselves, or None."""
    for message in payload if isinstance(payload, list) else []:
        if isinstance(message, dict) and message.get("notice"):
            return str(message["notice"])
    return None


async def send_message(
    client: httpx.AsyncClient, webhook: str, sender: str, text: str
) -> tuple[float, str | None]:
    """Sends one message; returns (latency in ms, error kind or None)."""
    started = time.perf_counter()
    error: str | None = None
    try:
        response = await client.post(webhook, json={"sender": sender, "message": text})
        if response.status_code != 200:
            error = f"HTTP {response.status_code}"
        else:
            try:
                payload = response.json()
            except ValueError:
                error = "invalid JSON"
            else:
                if reply_is_empty(payload):
                    error = "empty reply"
                elif notice := reply_notice(payload):
                    # The channel answered for the engine (rate limit, deadline, too long).
                    error = f"notice {notice}"
    except httpx.TimeoutException:
        error = "timeout"
    except httpx.HTTPError as exc:
        error = f"transport error ({type(exc).__name__})"
    return (time.perf_counter() - started) * 1000.0, error


async def report_progress(
    label: str, state: _PhaseState, budget: int, started: float, interval: float
) -> None:
    last_count, last_time = 0, started
    while True:
        await asyncio.sleep(interval)
        now = time.perf_counter()
        done = state.finished
        recent = (done - last_count) / (now - last_time) if now > last_time else 0.0
        overall = state.ok / (now - started) if now > started else 0.0
        print(
            f"  [{label}] {now - started:5.1f} s  {done}/{budget} messages  "
            f"{sum(state.errors.values())} errors  {recent:5.1f} msg/s now  "
            f"{overall:5.1f} msg/s overall",
            file=sys.stderr,
            flush=True,
        )
        last_count, last_time = done, now


async def run_phase(
    webhooks: Sequence[str],
    concurrency: int,
    budget: int,
    max_seconds: float,
    request_timeout: float,
    conversations: ConversationFactory,
    progress_interval: float | None,
    label: str,
    heavy_clients: int = 0,
) -> PhaseResult:
    """Runs `concurrency` conversations in parallel until `budget` messages or `max_seconds`.

    Each worker plays whole conversations one after another, waiting for the bot's reply before
    sending its next message. At the time limit, requests still in flight are cancelled and
    counted as aborted (neither completed nor errors).
    """
    state = _PhaseState()
    limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(request_timeout)
    started = time.perf_counter()
    deadline = started + max_seconds

    def claim() -> bool:
        if state.claimed >= budget or time.perf_counter() >= deadline:
            return False
        state.claimed += 1
        return True

    async def worker(client: httpx.AsyncClient, webhook: str) -> None:
        while True:
            sender = f"bench-{uuid.uuid4()}"
            turns = conversations.next_conversation()
            state.conversations += 1
            for text in turns:
                if not claim():
                    return
                latency_ms, error = await send_message(client, webhook, sender, text)
                if error is None:
                    state.ok += 1
                    state.latencies_ms.append(latency_ms)
                else:
                    state.errors[error] += 1

    heavy = HeavyStats()
    phase_over = asyncio.Event()

    async def heavy_worker(client: httpx.AsyncClient, webhook: str) -> None:
        """Maximum-size input beside the normal load: 1,000 characters, then a 64 KB body."""
        sender = f"bench-heavy-{uuid.uuid4()}"
        turn = 0
        while not phase_over.is_set():
            text = MAX_MESSAGE_TEXT if turn % 2 == 0 else MAX_BODY_TEXT
            turn += 1
            started_at = time.perf_counter()
            try:
                response = await client.post(webhook, json={"sender": sender, "message": text})
                kind = f"HTTP {response.status_code}"
                if response.status_code == 200:
                    kind = f"notice {reply_notice(response.json())}"
            except httpx.HTTPError as exc:
                kind = f"transport error ({type(exc).__name__})"
            heavy.record(len(text), kind, (time.perf_counter() - started_at) * 1000.0)

    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        # Conversations are spread over the servers; each stays on one server.
        workers = [
            asyncio.create_task(worker(client, webhooks[index % len(webhooks)]))
            for index in range(concurrency)
        ]
        heavy_tasks = [
            asyncio.create_task(heavy_worker(client, webhooks[index % len(webhooks)]))
            for index in range(heavy_clients)
        ]
        reporter = (
            asyncio.create_task(report_progress(label, state, budget, started, progress_interval))
            if progress_interval
            else None
        )
        done, pending = await asyncio.wait(workers, timeout=max_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        ended = time.perf_counter()
        phase_over.set()
        for task in heavy_tasks:
            task.cancel()
        await asyncio.gather(*heavy_tasks, return_exceptions=True)
        if reporter is not None:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
        for task in done:
            task.result()  # re-raise a bug in the worker instead of hiding it

    wall = min(ended, deadline) - started if pending else ended - started
    latencies = sorted(state.latencies_ms)
    errors = sum(state.errors.values())
    return PhaseResult(
        concurrency=concurrency,
        message_budget=budget,
        max_seconds=max_seconds,
        sent=state.claimed,
        ok=state.ok,
        errors=errors,
        aborted_at_time_limit=state.claimed - state.ok - errors,
        error_kinds=dict(state.errors.most_common()),
        conversations_started=state.conversations,
        wall_seconds=wall,
        hit_time_limit=bool(pending),
        messages_per_second=state.ok / wall if wall > 0 else 0.0,
        heavy_clients=heavy_clients,
        heavy=heavy.summary(),
        samples_ms=latencies,
        latency_ms={
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
            "mean": sum(latencies) / len(latencies) if latencies else None,
            "max": latencies[-1] if latencies else None,
        },
    )


# --------------------------------------------------------------------------------------------------
# Goals and reporting.
# --------------------------------------------------------------------------------------------------


@dataclass
class GoalResult:
    goal: str
    status: str  # PASS, MISS or N/A
    measured: str


def phase_for(phases: Sequence[PhaseResult], concurrency: int) -> PhaseResult | None:
    return next((p for p in phases if p.concurrency == concurrency and not p.heavy_clients), None)


def comparison_rounds(rounds: int) -> list[bool]:
    """Whether each phase of the comparison has maximum-size clients: without, with, with,
    without, and again (`rounds` of each), so that neither side always runs later. The first,
    without, is the ordinary phase at that concurrency."""
    pattern = [False, True, True, False]
    return [pattern[i % 4] for i in range(2 * rounds)]


def pooled_p95(phases: Sequence[PhaseResult]) -> float | None:
    return percentile(sorted(x for p in phases for x in p.samples_ms), 95)


def evaluate_goals(phases: Sequence[PhaseResult], max_rss_bytes: int | None) -> list[GoalResult]:
    goals: list[GoalResult] = []

    single = phase_for(phases, GOAL_SINGLE_CONCURRENCY)
    name = f"p95 <= {GOAL_P95_MS_SINGLE:.0f} ms at {GOAL_SINGLE_CONCURRENCY} conversation"
    p95 = single.latency_ms.get("p95") if single else None
    if single is None or p95 is None:
        goals.append(GoalResult(name, "N/A", "no successful messages in a 1-conversation phase"))
    else:
        status = "PASS" if p95 <= GOAL_P95_MS_SINGLE else "MISS"
        goals.append(GoalResult(name, status, f"p95 {p95:.1f} ms"))

    loaded = phase_for(phases, GOAL_RATE_CONCURRENCY)
    name = f">= {GOAL_RATE_MSGS_PER_S:.0f} msg/s at {GOAL_RATE_CONCURRENCY} conversations, 0 errors"
    if loaded is None:
        goals.append(GoalResult(name, "N/A", f"no {GOAL_RATE_CONCURRENCY}-conversation phase"))
    else:
        ok = loaded.messages_per_second >= GOAL_RATE_MSGS_PER_S and loaded.errors == 0
        goals.append(
            GoalResult(
                name,
                "PASS" if ok else "MISS",
                f"{loaded.messages_per_second:.1f} msg/s, {loaded.errors} errors",
            )
        )

    with_heavy = [p for p in phases if p.round and p.heavy_clients]
    without = [p for p in phases if p.round and not p.heavy_clients]
    name = (
        f"normal p95 beside max-size messages <= {GOAL_HEAVY_P95_RATIO:.2f} x without "
        f"({GOAL_RATE_CONCURRENCY} conv., pooled over {len(with_heavy)} rounds)"
    )
    base_p95, heavy_p95 = pooled_p95(without), pooled_p95(with_heavy)
    if not base_p95 or heavy_p95 is None:
        goals.append(GoalResult(name, "N/A", "no max-size rounds (or no successful messages)"))
    else:
        ratio = heavy_p95 / base_p95
        status = "PASS" if ratio <= GOAL_HEAVY_P95_RATIO else "MISS"
        per_round = ", ".join(
            f"x{h.latency_ms['p95'] / b.latency_ms['p95']:.2f}"
            for h, b in zip(with_heavy, without, strict=False)
            if h.latency_ms.get("p95") and b.latency_ms.get("p95")
        )
        measured = f"p95 {base_p95:.1f} -> {heavy_p95:.1f} ms (x{ratio:.2f}; rounds {per_round})"
        goals.append(GoalResult(name, status, measured))

    name = f"Rasa server RSS <= {GOAL_RSS_BYTES / 1024**3:.1f} GiB"
    if max_rss_bytes is None:
        goals.append(GoalResult(name, "N/A", "Rasa server process not found"))
    else:
        status = "PASS" if max_rss_bytes <= GOAL_RSS_BYTES else "MISS"
        goals.append(GoalResult(name, status, f"max RSS {mib(max_rss_bytes)}"))
    return goals


def mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 1024**2:,.0f} MiB"


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], left_columns: int = 1
) -> str:
    """Plain-text table; the first `left_columns` columns are left-aligned, the rest right."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i < left_columns else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def print_report(
    phases: Sequence[PhaseResult],
    memory: dict[str, Any],
    goals: Sequence[GoalResult],
) -> None:
    print("\nResults per phase (latency of successful messages, in ms):")
    headers = [
        "phase",
        "budget",
        "sent",
        "ok",
        "errors",
        "aborted",
        "convs",
        "wall s",
        "msg/s",
        "p50",
        "p95",
        "p99",
        "mean",
        "max",
    ]
    rows = [
        [
            p.name,
            str(p.message_budget),
            str(p.sent),
            str(p.ok),
            str(p.errors),
            str(p.aborted_at_time_limit),
            str(p.conversations_started),
            f"{p.wall_seconds:.1f}" + ("*" if p.hit_time_limit else ""),
            f"{p.messages_per_second:.1f}",
            ms(p.latency_ms["p50"]),
            ms(p.latency_ms["p95"]),
            ms(p.latency_ms["p99"]),
            ms(p.latency_ms["mean"]),
            ms(p.latency_ms["max"]),
        ]
        for p in phases
    ]
    print(render_table(headers, rows))
    if any(p.hit_time_limit for p in phases):
        print("* phase stopped at its time limit before sending its whole message budget")
    for p in phases:
        if p.error_kinds:
            kinds = ", ".join(f"{kind}: {count}" for kind, count in p.error_kinds.items())
            print(f"errors at {p.name}: {kinds}")
        if p.heavy_clients:
            answers = ", ".join(f"{k}: {n}" for k, n in p.heavy.get("answers", {}).items())
            print(
                f"max-size clients at {p.name}: {p.heavy_clients} clients, "
                f"{p.heavy.get('sent', 0)} messages (1,000 characters and ~64 KB, alternating), "
                f"p95 {ms(p.heavy.get('p95_ms'))} ms; answers: {answers or 'none'}"
            )
    if any(kind.startswith("notice utter_rate_limited") for p in phases for kind in p.error_kinds):
        print(
            "Rate-limited answers: all benchmark conversations come from one address. Start the"
            " assistant with a high limit for benchmarking, e.g. PVO_RATE_LIMIT=100000/minute make run"
        )
    print("msg/s = successfully answered messages / phase wall time")

    print("\nRasa server memory:")
    if memory["pid"] is None:
        print(f"  {memory['note']}")
    else:
        print(f"  pid {memory['pid']}: {memory['command']}")
        before, after = memory["before"], memory["after"]
        rows = [
            [
                "before (idle)",
                mib(before and before["rss_bytes"]),
                mib(before and before["hwm_bytes"]),
            ],
            ["after", mib(after and after["rss_bytes"]), mib(after and after["hwm_bytes"])],
            ["max sampled", mib(memory["max_rss_bytes"]), "-"],
        ]
        print("  " + render_table(["", "RSS", "peak (VmHWM)"], rows).replace("\n", "\n  "))
        if memory.get("note"):
            print(f"  {memory['note']}")

    print("\nGoals:")
    print(
        render_table(
            ["result", "goal", "measured"],
            [[g.status, g.goal, g.measured] for g in goals],
            left_columns=3,
        )
    )


# --------------------------------------------------------------------------------------------------
# Command line.
# --------------------------------------------------------------------------------------------------


def int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from exc
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def loopback_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {text!r}")
    if parts.hostname.lower() not in LOOPBACK_HOSTS:
        raise argparse.ArgumentTypeError(
            f"refusing non-loopback host {parts.hostname!r}: this benchmark only targets "
            f"{', '.join(sorted(LOOPBACK_HOSTS))}"
        )
    return text.rstrip("/")


def default_budget(concurrency: int) -> int:
    return 300 if concurrency == 1 else 2000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Chat load benchmark for the running PVO-assistent (Rasa REST channel).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--url", type=loopback_url, default=DEFAULT_URL, help="Rasa base URL")
    parser.add_argument(
        "--also-url",
        type=loopback_url,
        action="append",
        default=[],
        help="a further Rasa server sharing the tracker and lock store (repeatable)",
    )
    parser.add_argument(
        "--concurrency",
        type=int_list,
        default=[1, 20],
        metavar="N[,N...]",
        help="concurrent conversations per phase, one phase per value",
    )
    parser.add_argument(
        "--messages",
        type=int_list,
        default=None,
        metavar="N[,N...]",
        help="message budget per phase: one value for all phases or one per phase "
        "(default: 300 at concurrency 1, 2000 otherwise)",
    )
    parser.add_argument(
        "--max-seconds", type=positive_float, default=120.0, help="hard time limit per phase"
    )
    parser.add_argument(
        "--warmup", type=int, default=20, help="uncounted warm-up messages before the phases"
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=10.0, help="per-request timeout in seconds"
    )
    parser.add_argument(
        "--progress-interval",
        type=positive_float,
        default=5.0,
        help="seconds between progress lines (on stderr)",
    )
    parser.add_argument(
        "--rasa-pid", type=int, default=None, help="PID of the Rasa server (default: detect)"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed for the conversation mix")
    parser.add_argument(
        "--heavy-clients",
        type=int,
        default=2,
        help="clients sending maximum-size messages beside the "
        f"{GOAL_RATE_CONCURRENCY}-conversation load in the comparison rounds (0: no comparison)",
    )
    parser.add_argument(
        "--heavy-rounds",
        type=int,
        default=2,
        help="rounds of a phase with and a phase without the maximum-size clients, pooled "
        "(an even number balances drift)",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write results")
    args = parser.parse_args(argv)

    if args.messages is None:
        args.messages = [default_budget(c) for c in args.concurrency]
    elif len(args.messages) == 1:
        args.messages = args.messages * len(args.concurrency)
    elif len(args.messages) != len(args.concurrency):
        parser.error("--messages needs one value or one value per --concurrency phase")
    if args.warmup < 0:
        parser.error("--warmup must be 0 or more")
    if args.heavy_rounds < 1:
        parser.error("--heavy-rounds must be 1 or more")
    return args


class BotUnavailableError(Exception):
    """The Rasa server does not answer, or has no model loaded."""


def check_bot(base_url: str) -> dict[str, Any]:
    """The server's model file and Rasa version; raises BotUnavailableError otherwise."""
    try:
        response = httpx.get(f"{base_url}/status", timeout=5.0)
        status = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        status = None
    if not isinstance(status, dict):
        # The engine's HTTP API is closed by default: the REST channel's health answer tells
        # that the server is up, and its port only opens once the model is loaded.
        try:
            channel = httpx.get(f"{base_url}/webhooks/rest/", timeout=5.0)
            if channel.status_code == 200 and channel.json().get("status") == "ok":
                return {"model_file": "(engine API closed)", "rasa_version": None}
        except (httpx.HTTPError, ValueError, AttributeError):
            pass
        raise BotUnavailableError(
            f"The PVO-assistent is not running at {base_url} (no answer from /status).\n"
            "Start it with `make run` (and wait until it prints that it is ready), then try again."
        )
    if not status.get("model_file"):
        raise BotUnavailableError(
            f"The Rasa server at {base_url} answers but has no model loaded yet.\n"
            "Wait until `make run` prints that the assistant is ready, then try again."
        )
    version = None
    with contextlib.suppress(httpx.HTTPError, ValueError):
        version = httpx.get(f"{base_url}/version", timeout=5.0).json().get("version")
    return {"model_file": status.get("model_file"), "rasa_version": version}


def locate_rasa(args: argparse.Namespace) -> tuple[int | None, str | None]:
    """The Rasa server PID and a note for the report."""
    if args.rasa_pid is not None:
        if read_memory(args.rasa_pid) is None:
            return None, f"--rasa-pid {args.rasa_pid}: no readable /proc/{args.rasa_pid}/status"
        return args.rasa_pid, None
    port = urlsplit(args.url).port or (443 if args.url.startswith("https") else 80)
    pids = find_listening_pids(port)
    if not pids:
        return None, (
            f"Rasa server process not found (no visible process listens on port {port}); "
            "pass --rasa-pid to measure its memory."
        )
    note = None
    if len(pids) > 1:
        note = f"several processes listen on port {port} ({pids}); measured the first"
    return pids[0], note


async def run(args: argparse.Namespace, server: dict[str, Any]) -> dict[str, Any]:
    webhooks = [f"{url}{WEBHOOK_PATH}" for url in (args.url, *args.also_url)]
    webhook = webhooks[0]
    conversations = ConversationFactory(args.seed)

    pid, pid_note = locate_rasa(args)
    monitor = MemoryMonitor(pid) if pid is not None else None
    before = monitor.sample() if monitor else None
    if monitor:
        monitor.start()

    for extra in webhooks[1:]:
        print(f"Also: {extra} (same tracker and lock store; memory is reported for the first)")
    print(f"Target: {webhook} (Rasa {server['rasa_version'] or '?'}, {server['model_file']})")
    print(f"Scenario: {SCENARIO_DESCRIPTION}")
    print(STATUS_CHECK_NOTE)
    phase_plan = ", ".join(
        f"{c} conv. x {m} msgs" for c, m in zip(args.concurrency, args.messages, strict=True)
    )
    print(f"Phases: {phase_plan}; at most {args.max_seconds:g} s each")
    print(f"Rasa server PID: {pid if pid is not None else 'not found'}")

    if args.warmup:
        warm = await run_phase(
            webhooks, 1, args.warmup, args.max_seconds, args.timeout, conversations, None, "warm-up"
        )
        print(
            f"Warm-up: {warm.sent} messages in {warm.wall_seconds:.1f} s, "
            f"{warm.errors} errors (not counted)"
        )

    async def reported_phase(
        concurrency: int, budget: int, label: str, heavy_clients: int = 0
    ) -> PhaseResult:
        print(f"Phase {label}: up to {budget} messages or {args.max_seconds:g} s ...", flush=True)
        result = await run_phase(
            webhooks,
            concurrency,
            budget,
            args.max_seconds,
            args.timeout,
            conversations,
            args.progress_interval,
            label,
            heavy_clients=heavy_clients,
        )
        print(
            f"  done: {result.ok}/{result.sent} ok, {result.errors} errors, "
            f"{result.messages_per_second:.1f} msg/s, p95 {ms(result.latency_ms['p95'])} ms",
            flush=True,
        )
        return result

    phases: list[PhaseResult] = []
    for concurrency, budget in zip(args.concurrency, args.messages, strict=True):
        # At the goal's concurrency this is also the comparison's first phase without
        # maximum-size clients.
        first_round = bool(args.heavy_clients) and concurrency == GOAL_RATE_CONCURRENCY
        label = f"{concurrency} conv." + (" #1" if first_round else "")
        result = await reported_phase(concurrency, budget, label)
        result.round = 1 if first_round else 0
        phases.append(result)

    if args.heavy_clients and GOAL_RATE_CONCURRENCY in args.concurrency:
        budget = args.messages[args.concurrency.index(GOAL_RATE_CONCURRENCY)]
        plan = comparison_rounds(args.heavy_rounds)
        print(
            f"Comparison: {args.heavy_rounds} rounds of {GOAL_RATE_CONCURRENCY} conversations with"
            f" and without {args.heavy_clients} clients sending maximum-size messages, up to"
            f" {budget} normal messages or {args.max_seconds:g} s per phase",
            flush=True,
        )
        rounds = {False: 1, True: 0}
        for heavy in plan[1:]:  # the first, without, was the phase above
            rounds[heavy] += 1
            heavy_clients = args.heavy_clients if heavy else 0
            label = f"{GOAL_RATE_CONCURRENCY} conv." + (" + max-size" if heavy else "")
            label += f" #{rounds[heavy]}"
            result = await reported_phase(GOAL_RATE_CONCURRENCY, budget, label, heavy_clients)
            result.round = rounds[heavy]
            phases.append(result)

    after = None
    if monitor:
        await monitor.stop()
        after = monitor.sample()
    memory: dict[str, Any] = {
        "pid": pid,
        "command": process_name(pid) if pid is not None else None,
        "before": asdict(before) if before else None,
        "after": asdict(after) if after else None,
        "max_rss_bytes": monitor.max_rss_bytes if monitor and monitor.max_rss_bytes else None,
        "note": pid_note,
    }
    goals = evaluate_goals(phases, memory["max_rss_bytes"])
    print_report(phases, memory, goals)
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "url": args.url,
        "webhook": webhook,
        "webhooks": webhooks,
        "server": server,
        "scenario": SCENARIO_DESCRIPTION,
        "note": STATUS_CHECK_NOTE,
        "settings": {
            "concurrency": args.concurrency,
            "messages": args.messages,
            "max_seconds": args.max_seconds,
            "warmup": args.warmup,
            "timeout": args.timeout,
            "seed": args.seed,
            "heavy_clients": args.heavy_clients,
            "heavy_rounds": args.heavy_rounds,
        },
        "phases": [p.as_json() for p in phases],
        "memory": memory,
        "goals": [asdict(g) for g in goals],
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        server = check_bot(args.url)
    except BotUnavailableError as exc:
        print(exc, file=sys.stderr)
        return EXIT_UNREACHABLE
    results = asyncio.run(run(args, server))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(f"\nResults written to {args.json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
