"""The buffered event broker in the engine's environment (Python 3.10, Rasa 3.6, SQLAlchemy 1.4),
loaded the way Rasa loads it from endpoints.yml; and the row conversion it shares with the app."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bot.event_rows import COLUMNS, event_row
from tests.support import ENGINE_PYTHON, REPO, require

ENGINE_SCRIPT = r"""
import asyncio, json, sqlite3, sys, time
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import read_endpoint_config

job = json.loads(sys.argv[1])
result = {}

async def main():
    config = read_endpoint_config(job["endpoints"], "event_broker")
    broker = await EventBroker.create(config)
    result["class"] = type(broker).__name__
    start = time.perf_counter()
    for i in range(500):
        broker.publish({"event": "user", "sender_id": f"s{i % 5}", "timestamp": time.time(),
                        "text": "wat kost het?", "parse_data": {"intent": {"name": "faq"}},
                        "metadata": {"client_key": "never-stored"}})
        broker.publish({"event": "slot", "sender_id": "s1", "timestamp": time.time(),
                        "name": "access_code", "value": "ABCD-EFGH"})
    # Garbage never raises into Rasa.
    for odd in (None, 1, "x", {"event": "user"}, {"event": "user", "sender_id": 5},
                {"event": "bot", "sender_id": "s", "timestamp": float("nan")}):
        broker.publish(odd)
    result["publish_ms_per_event"] = (time.perf_counter() - start) * 1000 / 1006
    await asyncio.sleep(0.6)
    with sqlite3.connect(job["events_db"]) as db:
        result["rows_after_interval"] = db.execute("select count(*) from visitor_events").fetchone()[0]
        result["columns"] = [r[1] for r in db.execute("pragma table_info(visitor_events)")]
        result["texts"] = sorted({r[0] for r in db.execute("select text from visitor_events")})
    for i in range(7):
        broker.publish({"event": "action", "sender_id": "late", "timestamp": time.time(),
                        "name": "action_listen"})
    await broker.close()
    with sqlite3.connect(job["events_db"]) as db:
        result["rows_after_close"] = db.execute("select count(*) from visitor_events").fetchone()[0]

    # The tracker store's database is refused: no broker rather than a shared table.
    refused = await EventBroker.create(read_endpoint_config(job["same_db_endpoints"], "event_broker"))
    result["same_db"] = refused is None

    # An unreachable database: the engine still starts, publishing still never raises.
    down = await EventBroker.create(read_endpoint_config(job["down_endpoints"], "event_broker"))
    down.publish({"event": "user", "sender_id": "s", "timestamp": time.time(), "text": "x"})
    down.flush()
    result["down_class"] = type(down).__name__
    await down.close()

asyncio.run(main())
print(json.dumps(result))
"""


def test_broker_loads_and_writes_under_the_engine(tmp_path: Path) -> None:
    require(ENGINE_PYTHON.exists(), f"the engine environment is missing ({ENGINE_PYTHON})")
    events_db = tmp_path / "events.db"
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "event_broker:\n"
        "  type: bot.event_broker.BufferedSQLEventBroker\n"
        f'  url: "sqlite:///{events_db}"\n'
        "  flush_interval: 0.2\n"
    )
    same = tmp_path / "same.yml"
    same.write_text(
        f'event_broker:\n  type: bot.event_broker.BufferedSQLEventBroker\n  url: "sqlite:///{tmp_path / "tracker.db"}"\n'
    )
    down = tmp_path / "down.yml"
    down.write_text(
        "event_broker:\n  type: bot.event_broker.BufferedSQLEventBroker\n"
        '  url: "sqlite:////proc/no-such-dir/events.db"\n'
    )
    job = {
        "endpoints": str(endpoints),
        "events_db": str(events_db),
        "same_db_endpoints": str(same),
        "down_endpoints": str(down),
    }
    env = {
        "TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    completed = subprocess.run(
        [str(ENGINE_PYTHON), "-c", ENGINE_SCRIPT, json.dumps(job)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["class"] == "BufferedSQLEventBroker"
    assert result["rows_after_interval"] == 500  # slots and garbage are not kept
    assert result["rows_after_close"] == 507  # close() writes what still waits
    assert result["columns"] == ["id", *COLUMNS]
    assert result["texts"] == ["wat kost het?"]
    # Publishing is an append to memory, not a database write.
    assert result["publish_ms_per_event"] < 1.0
    assert result["same_db"] is True
    assert result["down_class"] == "BufferedSQLEventBroker"
    assert "never-stored" not in events_db.read_bytes().decode("latin-1")


def test_rows_keep_only_what_the_staff_side_needs() -> None:
    user = event_row(
        {
            "event": "user",
            "sender_id": "abc",
            "timestamp": 1.5,
            "text": "hallo",
            "parse_data": {
                "intent": {"name": "nlu_fallback", "confidence": 0.3},
                "intent_ranking": [
                    {"name": "nlu_fallback", "confidence": 0.3},
                    {"name": "faq", "confidence": 0.25},
                ],
                "response_selector": {
                    "faq": {"response": {"intent_response_key": "faq/kosten_subsidie"}}
                },
                "entities": [{"entity": "reference", "value": "KVO-2024-0031"}],
            },
            "metadata": {"client_key": "k"},
            "input_channel": "rest",
        }
    )
    assert user == {
        "conversation_id": "abc",
        "ts": 1.5,
        "type": "user",
        "text": "hallo",
        "intent": "nlu_fallback",
        "confidence": 0.3,
        "guess": "faq/kosten_subsidie",
        "response": None,
        "action": None,
    }
    bot = event_row(
        {
            "event": "bot",
            "sender_id": "abc",
            "timestamp": 2,
            "text": "De kosten ...",
            "metadata": {"utter_action": "utter_faq/kosten_subsidie"},
        }
    )
    assert (
        bot is not None and bot["response"] == "utter_faq/kosten_subsidie" and bot["text"] is None
    )
    action = event_row(
        {"event": "action", "sender_id": "abc", "timestamp": 3, "name": "action_clarify"}
    )
    assert action is not None and action["action"] == "action_clarify"
    for dropped in (
        {"event": "slot", "sender_id": "abc", "timestamp": 1, "name": "access_code", "value": "X"},
        {"event": "user", "timestamp": 1, "text": "no sender"},
        {"event": "user", "sender_id": "abc", "timestamp": True},
        "not a dict",
    ):
        assert event_row(dropped) is None  # type: ignore[arg-type]
    long_text = event_row({"event": "user", "sender_id": "a", "timestamp": 1, "text": "x" * 10_000})
    assert long_text is not None and len(long_text["text"]) == 2000
