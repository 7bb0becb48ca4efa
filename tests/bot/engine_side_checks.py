"""Checks that run inside the engine's environment (.venv-rasa, Python 3.10, Rasa 3.6).

Not collected by pytest itself: tests/bot/test_bot_engine_side.py runs this file with the engine's
interpreter and reads one line per check ("PASS <name>" or "FAIL <name>: <reason>"). Every check
uses the real Rasa classes, nothing mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import json
import logging
import os
import sqlite3
import sys
import tempfile
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO))

CHECKS = {}
ENGINE_MODULES = (
    "bot.action_results",
    "bot.channels",
    "bot.engine",
    "bot.engine_settings",
    "bot.faq_gate",
    "bot.nlg",
    "bot.redaction",
    "bot.rule_index",
    "bot.session_ids",
    "bot.tracker_store",
    "bot.turns",
)


def check(function):
    CHECKS[function.__name__] = function
    return function


def _domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(REPO / "domain.yml"))


def _generator(domain=None, **env):
    from bot.nlg import PvoResponseGenerator

    names = (
        "PVO_CONTACT_PHONE",
        "PVO_CONTACT_EMAIL",
        "PVO_OFFICE_HOURS",
        "PVO_CONTACT_URL",
        "PVO_CONVERSATION_RETENTION_DAYS",
        "PVO_LEAD_RETENTION_MONTHS",
    )
    saved = {name: os.environ.pop(name, None) for name in names}
    os.environ.update(env)
    try:
        return PvoResponseGenerator(domain=domain or _domain())
    finally:
        for name in names:
            os.environ.pop(name, None)
            if saved[name] is not None:
                os.environ[name] = saved[name]


def _tracker(events=(), sender="check"):
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(sender, _domain().slots)
    for event in events:
        tracker.update(event)
    return tracker


@check
def engine_modules_import():
    for name in ENGINE_MODULES:
        importlib.import_module(name)


@check
def contact_route_without_settings_points_to_the_website():
    generator = _generator()
    text = asyncio.run(generator.generate("utter_service_unavailable", _tracker(), "rest"))["text"]
    assert "pvo-brabant-zeeland.nl" in text, text
    assert "{" not in text, text
    assert "telefonisch" not in text and "e-mail" not in text, text


@check
def contact_route_names_configured_phone_email_and_hours():
    generator = _generator(
        PVO_CONTACT_PHONE="013 123 45 67",
        PVO_CONTACT_EMAIL="info@example.nl",
        PVO_OFFICE_HOURS="ma-vr 09:00-17:00",
    )
    text = asyncio.run(generator.generate("utter_handoff", _tracker(), "rest"))["text"]
    for part in ("013 123 45 67", "info@example.nl", "maandag t/m vrijdag van 09:00 tot 17:00"):
        assert part in text, text


@check
def privacy_answer_names_the_configured_retention():
    import yaml
    from rasa.shared.core.domain import Domain

    faq = yaml.safe_load((REPO / "data" / "responses" / "faq.yml").read_text(encoding="utf-8"))
    domain = _domain().merge(Domain.from_dict({"responses": faq["responses"]}))
    generator = _generator(
        domain, PVO_CONVERSATION_RETENTION_DAYS="14", PVO_LEAD_RETENTION_MONTHS="6"
    )
    text = asyncio.run(generator.generate("utter_faq/privacy", _tracker(), "rest"))["text"]
    assert "14 dagen" in text and "6 maanden" in text, text
    assert "{" not in text, text


@check
def an_identical_repeat_is_replaced():
    from rasa.shared.core.events import BotUttered

    generator = _generator()
    first = asyncio.run(generator.generate("utter_goodbye", _tracker(), "rest"))["text"]
    after = _tracker([BotUttered(first)])
    second = asyncio.run(generator.generate("utter_goodbye", after, "rest"))["text"]
    expected = _domain().responses["utter_repeated"][0]["text"]
    assert second == expected, second


@check
def tracker_store_stores_no_code_in_sqlite():
    from rasa.shared.core.events import SlotSet, UserUttered

    from bot.tracker_store import RedactingTrackerStore

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "tracker.db"
        store = RedactingTrackerStore(
            domain=_domain(),
            sensitive_slots=["access_code"],
            wrapped={"type": "SQL", "dialect": "sqlite", "db": str(db)},
        )
        text = "status KVO-2025-0014 code vryxfwpk"
        tracker = _tracker(
            [
                UserUttered(text, parse_data={"text": text, "entities": []}),
                SlotSet("requested_slot", "access_code"),
                UserUttered("geheim antwoord", parse_data={"text": "geheim antwoord"}),
                SlotSet("access_code", "VRYX-FWPK"),
            ]
        )
        asyncio.run(store.save(tracker))
        assert store.sensitive_next("check") is True
        rows = sqlite3.connect(db).execute("select data from events").fetchall()
        stored = " ".join(row[0] for row in rows).upper().replace("-", "")
        assert len(rows) == 4, rows
        assert "VRYXFWPK" not in stored and "GEHEIM" not in stored, stored
        back = asyncio.run(store.retrieve("check"))
        assert back.get_slot("access_code") == "[verwijderd]"


@check
def tracker_store_streams_each_event_once_and_redacts_across_turns():
    from rasa.core.brokers.broker import EventBroker
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    from bot.tracker_store import RedactingTrackerStore

    class CollectingBroker(EventBroker):
        def __init__(self):
            self.published = []

        def publish(self, event):
            self.published.append(json.loads(json.dumps(event)))

    def turn(store, events):
        # As Rasa handles a message: fetch the stored tracker, add the turn's events, save.
        tracker = asyncio.run(store.retrieve("check")) or _tracker()
        for event in events:
            tracker.update(event)
        asyncio.run(store.save(tracker))
        return tracker

    broker = CollectingBroker()
    store = RedactingTrackerStore(
        domain=_domain(), event_broker=broker, sensitive_slots=["intake_name"]
    )
    turn(
        store,
        [
            UserUttered("ik wil een intake", parse_data={"text": "ik wil een intake"}),
            ActionExecuted("intake_form"),
            SlotSet("requested_slot", "intake_name"),
            BotUttered("Wat is uw naam?"),
            ActionExecuted("action_listen"),
        ],
    )
    # The question was asked in the turn before: the answer is still an answer to it.
    answered = turn(
        store,
        [
            UserUttered("Karel Halverwege", parse_data={"text": "Karel Halverwege"}),
            SlotSet("intake_name", "Karel Halverwege"),
            SlotSet("requested_slot", None),
            ActionExecuted("action_listen"),
        ],
    )
    last = turn(store, [UserUttered("bel 06 12345678", parse_data={"text": "bel 06 12345678"})])
    stored = asyncio.run(store.retrieve("check"))
    assert len(broker.published) == len(last.events) == len(stored.events), broker.published
    kinds = [event["event"] for event in broker.published]
    assert kinds == [event.type_name for event in last.events], kinds
    everything = json.dumps(broker.published) + json.dumps(
        [event.as_dict() for event in stored.events]
    )
    assert "Halverwege" not in everything and "12345678" not in everything, everything
    assert stored.get_slot("intake_name") == "[verwijderd]"
    assert answered.get_slot("intake_name") == "Karel Halverwege"  # the live tracker is untouched


@check
def kept_events_give_the_tracker_the_stored_json_gives():
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

    from bot.tracker_store import RedactingTrackerStore

    store = RedactingTrackerStore(domain=_domain(), sensitive_slots=["access_code"])
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("eerste sessie", parse_data={"text": "eerste sessie"}),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        SlotSet("requested_slot", "access_code"),
        ActionExecuted("action_listen"),
        UserUttered("VRYX-FWPK", parse_data={"text": "VRYX-FWPK"}),
    ]
    asyncio.run(store.save(_tracker(events)))
    kept = store._from_kept_events("check")
    assert kept is not None, "the events were not kept"
    plain = InMemoryTrackerStore(_domain())
    plain.store = store.inner.store  # the same stored JSON, rebuilt the way Rasa does it
    from_json = asyncio.run(plain.retrieve("check"))
    assert [e.as_dict() for e in kept.events] == [e.as_dict() for e in from_json.events]
    assert len(kept.events) == 5 and "VRYX" not in json.dumps([e.as_dict() for e in kept.events])
    assert kept.current_state() == from_json.current_state()
    # Stored by other means since: the stored JSON decides.
    store.inner.store["check"] = plain.serialise_tracker(_tracker(events[:3]))
    assert store._from_kept_events("check") is None
    assert len(asyncio.run(store.retrieve("check")).events) == 3


@check
def the_in_memory_store_keeps_the_most_recent_conversations():
    from rasa.shared.core.events import ActionExecuted, UserUttered

    from bot.tracker_store import RedactingTrackerStore

    store = RedactingTrackerStore(domain=_domain(), max_conversations=3)

    def said(sender, text):
        tracker = _tracker([ActionExecuted("action_listen"), UserUttered(text)], sender)
        asyncio.run(store.save(tracker))

    for sender in ("a", "b", "c"):
        said(sender, "hallo")
    said("a", "nog een vraag")  # "a" is the most recent again
    said("d", "hallo")  # one over the limit: the oldest, "b", goes
    assert sorted(store.inner.store) == ["a", "c", "d"], sorted(store.inner.store)
    assert "b" not in store._kept_events and asyncio.run(store.retrieve("b")) is None
    kept = asyncio.run(store.retrieve("a"))
    assert kept is not None and kept.latest_message.text == "nog een vraag", kept.latest_message


@check
def words_that_look_like_codes_stay_readable():
    from bot.redaction import redact_codes

    text = "de partners verwacht een callback via onze channels; code vryxfwpk of WVZ4LWUX"
    assert redact_codes(text) == (
        "de partners verwacht een callback via onze channels; code [verwijderd] of [verwijderd]"
    ), redact_codes(text)


@check
def tracker_store_save_never_raises_and_logs_no_content():
    from rasa.shared.core.events import UserUttered

    from bot.tracker_store import RedactingTrackerStore

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "tracker.db"
        store = RedactingTrackerStore(
            domain=_domain(),
            sensitive_slots=["access_code"],
            wrapped={"type": "SQL", "dialect": "sqlite", "db": str(db)},
        )
        db.unlink()
        db.mkdir()  # the database is gone: every write fails
        text = "mijn code VRYX-FWPK"
        asyncio.run(store.save(_tracker([UserUttered(text, parse_data={"text": text})])))
    logging.getLogger().removeHandler(handler)
    logged = stream.getvalue()
    assert "Conversation not saved" in logged, logged
    assert "VRYX" not in logged.upper(), logged


@check
def log_filter_removes_codes():
    from bot.engine import CodeRedactingFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CodeRedactingFilter())
    log = logging.getLogger("check.filter")
    log.addHandler(handler)
    log.warning("text %s and %r", "vryx-fwpk", {"code": "VRYXFWPK"})
    try:
        raise ValueError("bad value wvz4-lwux")
    except ValueError:
        log.exception("failed")
    logged = stream.getvalue().upper().replace("-", "")
    assert "VRYXFWPK" not in logged and "WVZ4LWUX" not in logged, logged


@check
def sender_pattern_and_rate_limiter():
    from bot.turns import RateLimiter, client_key, valid_sender

    for good in ("demo", "test-abc_1.2:3[4]", "x" * 128, "a1B2c3.sig_-"):
        assert valid_sender(good), good
    for bad in ("", "x" * 129, "a\x00b", "a b", "<script>", None, 5, ["a"]):
        assert not valid_sender(bad), repr(bad)
    limiter = RateLimiter(3, 60.0)
    assert [limiter.allow("k", now=0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("other", now=0.0)
    assert limiter.allow("k", now=20.0)  # one message's worth refilled after 20 s
    key = client_key("secret", "192.0.2.7")
    assert "192" not in key and len(key) == 32
    assert key == client_key("secret", "192.0.2.7") != client_key("other", "192.0.2.7")


@check
def the_rate_limiter_decides_as_a_token_bucket_does():
    import random

    from bot.turns import RateLimiter

    class TokenBucket:  # the textbook form: `count` tokens, refilled at count/period a second
        def __init__(self, count, period):
            self.count, self.rate, self.state = count, count / period, {}

        def allow(self, key, now):
            tokens, last = self.state.get(key, (self.count, now))
            tokens = min(self.count, tokens + (now - last) * self.rate)
            self.state[key] = (tokens - 1 if tokens >= 1 else tokens, now)
            return tokens >= 1

    rng = random.Random(7)
    for count, period in ((3, 60.0), (20, 60.0), (5, 1.0)):
        limiter, bucket, now = RateLimiter(count, period), TokenBucket(count, period), 0.0
        for _ in range(3000):
            now += rng.choice((0.0, 0.001, 0.05, 0.5, 2.0, 7.5)) * period / count
            key = rng.choice("abc")
            expected = bucket.allow(key, now)
            assert limiter.allow(key, now=now) == expected, (count, period, key, now)


@check
def pacer_books_start_times_in_bursts_then_at_its_rate():
    from bot.turns import Pacer

    pacer = Pacer(60, 60.0, burst=3)  # one a second after a burst of three
    assert [pacer.book(1.0, now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert pacer.book(1.0, now=0.0) == 1.0  # the fourth starts a second later
    assert pacer.book(1.0, now=0.0) is None  # the fifth would wait two: refused, nothing booked
    assert pacer.book(1.0, now=0.5) is None  # 1.5 s still
    assert pacer.book(1.0, now=2.0) == 0.0  # the refused ones booked nothing
    assert pacer.book(0.5, now=2.0) is None  # a shorter patience is respected
    # After a quiet spell the burst is there again, and no more than the burst.
    assert [pacer.book(1.0, now=60.0) for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]


@check
def long_messages_take_turns_in_their_lane():
    import dataclasses

    from bot.engine_settings import EngineSettings
    from bot.turns import LONG_MESSAGE_BUSY, TurnRunner

    os.environ.setdefault("PVO_SESSION_SECRET", "x" * 32)
    # A rate no other check uses, so this lane is this check's own: one per 0.5 s, bursts of 3.
    settings = dataclasses.replace(EngineSettings.from_env(), long_message_rate=(120, 60.0))
    runner = TurnRunner(settings, "rest")
    started: dict[str, float] = {}

    async def on_new_message(message):
        started[message.sender_id] = asyncio.get_running_loop().time()
        await asyncio.sleep(0.3 if message.sender_id == "short" else 0.0)
        await message.output_channel.send_text_message(message.sender_id, "ok")

    async def scenario():
        loop = asyncio.get_running_loop()
        begin = loop.time()
        short = asyncio.ensure_future(runner.run(on_new_message, "kort", "short", "a"))
        await asyncio.sleep(0.05)
        long_text = "lang " + "x" * 400
        replies = await asyncio.gather(
            *(runner.run(on_new_message, long_text, f"long{n}", "b") for n in range(6))
        )
        await short
        return {sender: at - begin for sender, at in started.items()}, replies

    began, replies = asyncio.run(scenario())
    texts = [reply[0]["text"] for reply in replies]
    notices = [reply[0].get("notice") for reply in replies]
    # A running short turn does not hold long messages up: three start at once ...
    assert texts[:3] == ["ok"] * 3 and all(began[f"long{n}"] < 0.2 for n in range(3)), began
    # ... the next two in their booked places, half a second apart ...
    assert texts[3:5] == ["ok"] * 2, replies
    assert 0.5 <= began["long3"] < 0.7 and 1.0 <= began["long4"] < 1.2, began
    # ... and the sixth, which would wait longer than a second, is asked to write shorter.
    assert notices[5] == LONG_MESSAGE_BUSY and "long5" not in began, replies
    assert began["short"] < 0.01


@check
def action_results_are_checked_as_rasa_checks_them():
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    from bot import action_results

    action = RemoteAction("action_check_status", EndpointConfig("http://127.0.0.1:1"))
    valid = {
        "events": [
            {"event": "slot", "name": "requested_slot", "value": "reference", "timestamp": None},
            {"event": "active_loop", "name": "status_form", "timestamp": None},
        ],
        "responses": [{"response": "utter_ask_reference", "buttons": []}],
    }
    invalid = [
        {"events": [{"event": "slot", "name": 3}], "responses": []},
        {"events": "not a list"},
        {"events": [], "responses": ["not an object"]},
        {"events": [{"event": "no_such_event"}]},
    ]

    def outcomes():
        results = [action._validate_action_result(valid)]
        for result in invalid:
            try:
                action._validate_action_result(result)
            except ValidationError as error:
                results.append(str(error.message))
            else:
                results.append("accepted")
        return results

    stock = outcomes()
    assert stock[0] is True and "accepted" not in stock, stock
    original = RemoteAction._validate_action_result
    assert action_results.install()
    assert action_results.install()  # twice is harmless
    assert getattr(RemoteAction._validate_action_result, "compiled_schema", False)
    assert outcomes() == stock
    RemoteAction._validate_action_result = original


def _random_rule_states(rng, should_not_be_set):
    """A sequence of dialogue states as Rasa's rules and trackers hold them."""
    actions = ["action_listen", "utter_greet", "status_form", "action_handoff", should_not_be_set]
    states = []
    for position in range(rng.randint(1, 4)):
        state = {}
        if position > 0 or rng.random() < 0.7:
            state["prev_action"] = {"action_name": rng.choice(actions)}
        if rng.random() < 0.6:
            state["user"] = {"intent": rng.choice(["greet", "faq", "check_status", "deny"])}
        if rng.random() < 0.4:
            state["active_loop"] = {"name": rng.choice(["status_form", should_not_be_set])}
        if rng.random() < 0.3:
            state["slots"] = {"access_code": rng.choice([[1.0], should_not_be_set])}
        states.append(state)
    return states


def _trained_rule_lookups():
    import tarfile

    model = REPO / "models" / "pvo-assistent.tar.gz"
    if not model.exists():
        return []
    with tarfile.open(model) as archive:
        for member in archive.getmembers():
            if member.name.endswith("rule_policy.json"):
                lookup = json.load(archive.extractfile(member))["lookup"]
                return [lookup["rules"], lookup["rules_for_loop_unhappy_path"]]
    return []


@check
def rule_index_finds_exactly_the_rules_rasa_finds():
    import random

    from rasa.core.policies import rule_policy
    from rasa.core.policies.rule_policy import RulePolicy

    from bot import rule_index

    rng = random.Random(7)
    unset = rule_policy.SHOULD_NOT_BE_SET
    synthetic = {json.dumps(_random_rule_states(rng, unset)): "utter_x" for _ in range(300)}
    lookups = [synthetic, *_trained_rule_lookups()]
    conversations = [_random_rule_states(rng, unset) for _ in range(1500)]
    for lookup in lookups[1:]:
        # The trained rules' own states, and two rules run into each other.
        rules = [json.loads(key) for key in lookup]
        conversations += rules
        conversations += [
            rng.choice(rules)[: rng.randint(1, 3)] + rng.choice(rules) for _ in range(1000)
        ]
    original = RulePolicy._get_possible_keys
    assert rule_index.install()
    assert rule_index.install()  # twice is harmless
    indexed = RulePolicy._get_possible_keys
    assert getattr(indexed, "indexed", False)
    policy = RulePolicy.__new__(RulePolicy)  # the rule check needs no trained state
    found = 0
    for lookup in lookups:
        for states in conversations:
            expected = original(policy, lookup, states)
            assert indexed(policy, lookup, states) == expected, states
            found += bool(expected)
    assert found > 500, found  # the comparison covers rules that apply, not only misses
    RulePolicy._get_possible_keys = original


@check
def the_engine_uses_the_faster_checks():
    from rasa.core.actions.action import RemoteAction
    from rasa.core.policies.rule_policy import RulePolicy

    from bot import engine

    with contextlib.suppress(engine.StartupRefused):
        engine.build_app(Path(tempfile.gettempdir()) / "no-such-model.tar.gz", Path(), Path())
    assert getattr(RemoteAction._validate_action_result, "compiled_schema", False)
    assert getattr(RulePolicy._get_possible_keys, "indexed", False)


@check
def refused_messages_are_logged_once_a_minute_per_reason():
    from bot.turns import LENGTH_REASON, RATE_LIMIT_REASON, RefusalLog

    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Collect()
    turns_logger = logging.getLogger("bot.turns")
    turns_logger.addHandler(handler)
    turns_logger.setLevel(logging.INFO)
    try:
        log = RefusalLog(interval=60.0)
        for second in range(1000):  # a flood: a thousand refusals in 17 minutes
            log.refused(RATE_LIMIT_REASON, now=second)
        log.refused(LENGTH_REASON, now=5)
    finally:
        turns_logger.removeHandler(handler)
    rate_lines = [line for line in lines if RATE_LIMIT_REASON in line]
    assert len(rate_lines) == 17, rate_lines  # seconds 0, 60, ..., 960
    assert rate_lines[0] == f"Message refused: {RATE_LIMIT_REASON}", rate_lines
    assert rate_lines[1].endswith("(and 59 more not logged)"), rate_lines
    assert lines.count(f"Message refused: {LENGTH_REASON}") == 1, lines


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    failed = 0
    for name, function in CHECKS.items():
        try:
            function()
        except Exception as error:
            failed += 1
            reason = f"{type(error).__name__}: {error}"
            print(f"FAIL {name}: {json.dumps(reason)}\n{traceback.format_exc()}", flush=True)
        else:
            print(f"PASS {name}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
