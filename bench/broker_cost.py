"""What the event broker costs the chat: the chat load without a broker, with Rasa's stock SQL
broker and with our buffered broker (bot/event_broker.py).

Starts its own stack on free loopback ports (one action server and one Rasa server per variant,
the same trained model, our channels and redacting in-memory tracker store as `make run`, which
streams the events to the broker), so it neither needs nor disturbs
a running assistant. The load is bench/chat_load.py's (same conversations, same phase runner),
20 concurrent conversations. The variants run in interleaved rounds, each round starting with
the next variant, so that other load on a shared machine spreads over all of them rather than
one. Reports throughput and p95 per variant and the difference to "none"; the goal is <= 10 %.

    .venv/bin/python bench/broker_cost.py                    # 3 rounds x 200 messages
    .venv/bin/python bench/broker_cost.py --rounds 5 --messages 300 --json var/bench/broker.json

Exit code 0 after a report (also when the goal is missed), 2 when a server does not start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from chat_load import ConversationFactory, run_phase  # noqa: E402

RASA = REPO / ".venv-rasa" / "bin" / "rasa"
MODEL = REPO / "models" / "pvo-assistent.tar.gz"
GOAL_PERCENT = 10.0
START_TIMEOUT_SECONDS = 900
CONCURRENCY = 20
VARIANTS = ("none", "stock-sql", "buffered")
# Also available: "null" (a broker that drops everything: Rasa's own cost of having a broker).


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(url: str, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}); see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{what} not ready after {START_TIMEOUT_SECONDS} s; see {log}")


@contextmanager
def process(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): the engine's own work per message,
    much less disturbed by other load on a shared machine than wall-clock throughput."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def demo_database(folder: Path) -> str:
    from kvo import migrate
    from kvo.db import make_engine, session_scope
    from kvo.db_purpose import mark_demo
    from kvo.demo_data import load_demo_data

    url = f"sqlite:///{folder / 'kvo.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        mark_demo(session)
        load_demo_data(session)
    engine.dispose()
    return url


def broker_section(variant: str, folder: Path) -> str:
    if variant == "stock-sql":
        return f'event_broker:\n  type: SQL\n  dialect: sqlite\n  db: "{folder / "stock.db"}"\n'
    if variant == "buffered":
        return "event_broker:\n  type: bot.event_broker.BufferedSQLEventBroker\n"
    if variant == "null":
        return "event_broker:\n  type: bench.null_broker.NullEventBroker\n"
    return ""


def stored_rows(variant: str, folder: Path) -> int | None:
    path, table = {
        "stock-sql": (folder / "stock.db", "events"),
        "buffered": (folder / "events.db", "visitor_events"),
    }.get(variant, (None, ""))
    if path is None or not path.exists():
        return None
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@dataclass
class Totals:
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    rounds: list[dict[str, float]] = field(default_factory=list)


async def measure(
    urls: dict[str, str],
    pids: dict[str, int],
    rounds: int,
    messages: int,
    seed: int,
    max_seconds: float,
) -> dict[str, Totals]:
    totals = {variant: Totals() for variant in urls}
    # Warm-up per server (model loading, first-request caches), not counted.
    for url in urls.values():
        await run_phase([url], 1, 20, max_seconds, 30.0, ConversationFactory(seed), None, "warm-up")
    names = list(urls)
    for number in range(rounds):
        # Each round starts with another variant, so no variant always follows the same one
        # (a server that just ran still has threads winding down).
        shift = number % len(names)
        for variant in names[shift:] + names[:shift]:
            url = urls[variant]
            # The same conversations for every variant in a round.
            factory = ConversationFactory(seed + number)
            cpu_before = cpu_seconds(pids[variant])
            result = await run_phase(
                [url], CONCURRENCY, messages, max_seconds, 30.0, factory, None, variant
            )
            # The buffered broker's writer runs up to 0.5 s later: count its work in this round.
            await asyncio.sleep(1.0)
            cpu_ms = (cpu_seconds(pids[variant]) - cpu_before) * 1000 / max(1, result.ok)
            total = totals[variant]
            total.ok += result.ok
            total.errors += result.errors
            total.seconds += result.wall_seconds
            total.rounds.append(
                {
                    "msgs_per_s": result.messages_per_second,
                    "p95_ms": result.latency_ms["p95"] or 0,
                    "engine_cpu_ms_per_msg": cpu_ms,
                }
            )
            print(
                f"  round {number + 1} {variant:10s} {result.ok:4d} ok {result.errors} errors"
                f" {result.messages_per_second:6.1f} msg/s p95 {result.latency_ms['p95'] or 0:7.1f} ms"
                f" engine CPU {cpu_ms:6.1f} ms/msg",
                flush=True,
            )
    return totals


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=200, help="messages per round and variant")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="limit per round")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    if not MODEL.exists():
        print(f"No trained model at {MODEL}: run `make train` first.", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="broker-cost-")))
        base_env = {
            **os.environ,
            "DATABASE_URL": demo_database(folder),
            "PYTHONWARNINGS": "ignore",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            # Our channels (credentials.yml): all benchmark conversations share one address.
            "PVO_RATE_LIMIT": "100000/minute",
            "PVO_SESSION_SECRET": secrets.token_urlsafe(32),
        }
        token = secrets.token_urlsafe(32)
        actions_port = free_port()
        actions_env = {
            **base_env,
            "ACTION_SERVER_TOKEN": token,
            "PVO_ACTIONS_HOST": "127.0.0.1",
            "PVO_ACTIONS_PORT": str(actions_port),
        }
        actions = stack.enter_context(
            process([sys.executable, "-m", "actions.server"], actions_env, folder / "actions.log")
        )
        urls: dict[str, str] = {}
        pids: dict[str, int] = {}
        servers: list[tuple[str, subprocess.Popen[bytes], Path, int]] = []
        for variant in variants:
            endpoints = folder / f"endpoints-{variant}.yml"
            endpoints.write_text(
                "action_endpoint:\n"
                f'  url: "http://127.0.0.1:{actions_port}/webhook"\n'
                "  headers:\n"
                f'    Authorization: "Bearer {token}"\n'
                "tracker_store:\n"
                "  type: bot.tracker_store.RedactingTrackerStore\n"
                "  sensitive_slots: [access_code]\n" + broker_section(variant, folder)
            )
            port = free_port()
            log = folder / f"rasa-{variant}.log"
            env = {**base_env, "EVENTS_DB_URL": f"sqlite:///{folder / 'events.db'}"}
            command = [
                str(RASA), "run", "--port", str(port), "--model", str(MODEL),
                "--endpoints", str(endpoints), "--credentials", "credentials.yml",
            ]  # fmt: skip
            servers.append((variant, stack.enter_context(process(command, env, log)), log, port))
        try:
            wait_until(
                f"http://127.0.0.1:{actions_port}/health",
                actions,
                folder / "actions.log",
                "actions",
            )
            for variant, proc, log, port in servers:
                wait_until(f"http://127.0.0.1:{port}/", proc, log, f"Rasa ({variant})")
                urls[variant] = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
                pids[variant] = proc.pid
        except RuntimeError as error:
            print(str(error), file=sys.stderr)
            for _, _, log, _ in servers:
                print(log.read_text()[-2000:], file=sys.stderr)
            return 2
        print(
            f"Variants: {', '.join(variants)}; {args.rounds} interleaved rounds of"
            f" {args.messages} messages at {CONCURRENCY} concurrent conversations each"
        )
        totals = asyncio.run(
            measure(urls, pids, args.rounds, args.messages, args.seed, args.max_seconds)
        )
        time.sleep(1.5)  # let the buffered broker flush before counting its rows
        report = summarise(totals, {v: stored_rows(v, folder) for v in variants})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _figures(total: Totals) -> tuple[float, float, float]:
    """Throughput (mean of rounds), p95 and engine CPU per message (medians of rounds)."""
    rounds = total.rounds
    middle = len(rounds) // 2
    rate = sum(r["msgs_per_s"] for r in rounds) / len(rounds)
    p95 = sorted(r["p95_ms"] for r in rounds)[middle]
    cpu = sorted(r["engine_cpu_ms_per_msg"] for r in rounds)[middle]
    return rate, p95, cpu


def _change(value: float, base: float) -> float:
    return (value - base) / base * 100 if base else 0.0


def summarise(totals: dict[str, Totals], rows: dict[str, int | None]) -> dict[str, object]:
    base = _figures(totals["none"]) if "none" in totals else None
    print()
    print(f"{'variant':10s} {'ok':>5s} {'err':>4s} {'msg/s':>6s} {'p95 ms':>7s} {'CPU ms':>7s}"
          f" {'d msg/s':>8s} {'d p95':>7s} {'d CPU':>7s} {'rows':>6s}")  # fmt: skip
    variants: dict[str, object] = {}
    for variant, total in totals.items():
        rate, p95, cpu = _figures(total)
        entry: dict[str, object] = {
            "ok": total.ok,
            "errors": total.errors,
            "msgs_per_s_mean": round(rate, 2),
            "p95_ms_median": round(p95, 1),
            "engine_cpu_ms_per_msg_median": round(cpu, 2),
            "rounds": total.rounds,
            "rows_stored": rows.get(variant),
        }
        changes = ["", "", ""]
        if base is not None and variant != "none":
            d_rate, d_p95, d_cpu = (
                _change(rate, base[0]),
                _change(p95, base[1]),
                _change(cpu, base[2]),
            )
            entry.update(
                throughput_change_percent=round(d_rate, 1),
                p95_change_percent=round(d_p95, 1),
                engine_cpu_change_percent=round(d_cpu, 1),
                within_goal=-d_rate <= GOAL_PERCENT and d_p95 <= GOAL_PERCENT,
            )
            changes = [f"{d_rate:+.1f}%", f"{d_p95:+.1f}%", f"{d_cpu:+.1f}%"]
        variants[variant] = entry
        stored = rows.get(variant)
        print(
            f"{variant:10s} {total.ok:5d} {total.errors:4d} {rate:6.1f} {p95:7.1f} {cpu:7.1f}"
            f" {changes[0]:>8s} {changes[1]:>7s} {changes[2]:>7s}"
            f" {stored if stored is not None else '-':>6}"
        )
    print(
        "msg/s: mean of the rounds; p95 and engine CPU per message: median of the rounds."
        f" Goal: a broker costs at most {GOAL_PERCENT:g} % throughput and p95 against 'none'."
        " On a shared machine wall-clock figures move by 10-20 % between rounds; the engine's"
        " CPU time per message is the steadier measure of the broker's own work."
    )
    return {"goal_percent": GOAL_PERCENT, "variants": variants}


if __name__ == "__main__":
    sys.exit(main())
