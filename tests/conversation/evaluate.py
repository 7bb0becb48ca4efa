"""Scores whole conversations against a running assistant: right, wrong, dead end and repeat.

Two sources of conversations: the visitor set (tests/conversation/visitor_conversations.yml, each
turn labelled with the expected outcome) and the test stories (tests/stories/*.yml, where the
expected outcome of a turn is the actions that follow the visitor's step).

Per visitor turn (one "reply" = everything the assistant answers to one message):
- right: the expected outcome happened (see the label grammar in the visitor set's header);
- clarified: not right, but a button offers the expected topic (a sensible clarification);
- wrong: neither;
- dead end: not right and the reply offers nothing to go on: no button, no question, no route to a
  person;
- repeat: the reply is word for word the previous reply of the same conversation.

Also runnable against a running assistant whose HTTP API is on:
`.venv/bin/python -m tests.conversation.evaluate http://127.0.0.1:5005`.
"""

from __future__ import annotations

import os
import re
import sys
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
VISITOR_SET = Path(__file__).with_name("visitor_conversations.yml")
TEST_STORIES = REPO / "tests" / "stories"
RESPONSE_FILES = [REPO / "domain.yml", *sorted((REPO / "data" / "responses").glob("*.yml"))]

# What counts as a way to a person in a reply's text (the contact route of bot/nlg.py and the
# emergency numbers of kvo-facts.md); a handoff or callback button counts too.
PERSON_MARKERS = ("pvo-brabant-zeeland.nl", "112", "0900-8844", "terugbelverzoek")
PERSON_PAYLOADS = ("/human_handoff", "/request_callback", "/contact")
# Form and bookkeeping actions say nothing by themselves.
SILENT_ACTIONS = {"action_listen", "action_session_start", "action_unlikely_intent"}


@dataclass
class Turn:
    text: str
    expect: list[str]


@dataclass
class Conversation:
    name: str
    source: str  # "visitor set" or "stories"
    turns: list[Turn]


@dataclass
class Reply:
    """What the assistant did for one visitor message."""

    intent: str | None = None
    actions: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


@dataclass
class Outcome:
    conversation: str
    source: str
    message: str
    expect: list[str]
    verdict: str  # right / clarified / wrong
    dead_end: bool
    repeat: bool
    reply: str


# --- reading the sets -----------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower case, accents folded, punctuation dropped, spaces collapsed: for comparing messages."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


def _labels(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)]


def visitor_conversations(path: Path = VISITOR_SET) -> list[Conversation]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Conversation(
            name=item["name"],
            source="visitor set",
            turns=[Turn(str(t["user"]), _labels(t["expect"])) for t in item["turns"]],
        )
        for item in data["conversations"]
    ]


def story_conversations(folder: Path = TEST_STORIES) -> list[Conversation]:
    """Test stories as conversations: each visitor step expects the actions that follow it."""
    conversations = []
    for path in sorted(folder.glob("*.yml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8")).get("stories") or []:
            turns: list[Turn] = []
            for step in story.get("steps") or []:
                if "user" in step or "intent" in step:
                    text = str(step.get("user") or f"/{step['intent']}").strip()
                    turns.append(Turn(text, []))
                elif "action" in step and turns:
                    turns[-1].expect.append(f"action:{step['action']}")
            if turns:
                conversations.append(Conversation(story["story"], "stories", turns))
    return conversations


def _response_patterns() -> dict[str, list[re.Pattern[str]]]:
    """Each response's variants as patterns ({variables} match anything), to name bot texts."""
    patterns: dict[str, list[re.Pattern[str]]] = {}
    for path in RESPONSE_FILES:
        if not path.exists():
            continue
        responses = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}
        for name, variants in responses.items():
            for variant in variants or []:
                text = " ".join(str((variant or {}).get("text") or "").split())
                if not text:
                    continue
                parts = re.split(r"\{[a-z_]+\}", text)
                if not "".join(parts).strip():
                    continue  # only a variable ("{report}"): would name every text
                regex = ".*?".join(re.escape(part) for part in parts)
                patterns.setdefault(name, []).append(re.compile(regex, re.DOTALL))
    return patterns


# --- talking to the assistant -----------------------------------------------------------------------


def _segment(events: list[dict]) -> list[Reply]:
    """The tracker's events cut into one Reply per user message."""
    replies: list[Reply] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            replies.append(Reply(intent=intent.get("name")))
        elif not replies:
            continue
        elif kind == "action" and event.get("name") not in SILENT_ACTIONS:
            replies[-1].actions.append(event["name"])
        elif kind == "bot":
            reply = replies[-1]
            reply.texts.append(event.get("text") or "")
            data = event.get("data") or {}
            buttons = data.get("buttons") or []
            reply.payloads += [str(b.get("payload")) for b in buttons if isinstance(b, dict)]
            utter = (event.get("metadata") or {}).get("utter_action")
            if utter:
                reply.responses.append(utter)
    return replies


def _name_responses(reply: Reply, patterns: dict[str, list[re.Pattern[str]]]) -> None:
    for text in reply.texts:
        flat = " ".join(text.split())
        for name, variants in patterns.items():
            if name not in reply.responses and any(p.fullmatch(flat) for p in variants):
                reply.responses.append(name)


def run_conversation(
    client: httpx.Client, url: str, conversation: Conversation, api_token: str, client_number: int
) -> list[Reply]:
    """Play one conversation, then read its tracker through the engine's HTTP API (token).

    Each conversation is its own visitor for the per-client rate limit: the engine must trust one
    proxy hop (PVO_PROXIES_COUNT=1) for the X-Forwarded-For address to count.
    """
    sender = f"eval-{time.monotonic_ns()}"
    headers = {"X-Forwarded-For": f"10.9.{client_number // 250 % 250}.{client_number % 250 + 1}"}
    for turn in conversation.turns:
        response = client.post(
            f"{url}/webhooks/rest/webhook",
            json={"sender": sender, "message": turn.text},
            headers=headers,
        )
        response.raise_for_status()
    tracker = client.get(f"{url}/conversations/{sender}/tracker", params={"token": api_token})
    tracker.raise_for_status()
    return _segment(tracker.json().get("events") or [])


# --- judging ---------------------------------------------------------------------------------------


def offers_person(reply: Reply) -> bool:
    if "action_handoff" in reply.actions:
        return True
    if any(p.split("{")[0] in PERSON_PAYLOADS for p in reply.payloads):
        return True
    return any(marker in reply.text for marker in PERSON_MARKERS)


def _offers(reply: Reply, key: str) -> bool:
    return any(f'"{key}"' in p or p == f"/{key}" for p in reply.payloads)


def _matches(label: str, reply: Reply) -> bool:
    if "+" in label:
        return all(_matches(part, reply) for part in label.split("+"))
    if label == "offers_person":
        return offers_person(reply)
    if label.startswith("text:"):
        return label[5:].lower() in reply.text.lower()
    if label.startswith("offers:"):
        return _offers(reply, label[7:])
    if label.startswith("action:"):  # test stories: the action or response ran
        name = label[7:]
        return name in reply.actions or name in reply.responses
    if label.startswith("faq/"):
        label = f"utter_{label}"
    names = reply.responses + reply.actions
    if label.endswith("*"):
        return any(name.startswith(label[:-1]) for name in names)
    if label.startswith("action_") and label.removeprefix("action_") in reply.actions:
        return True  # action_status_form names the form status_form
    return label in names


def judge(turn: Turn, reply: Reply, previous: Reply | None) -> tuple[str, bool, bool]:
    if turn.expect and all(label.startswith("action:") for label in turn.expect):
        right = all(_matches(label, reply) for label in turn.expect)
    else:
        right = any(_matches(label, reply) for label in turn.expect)
    topics = [label.split("/", 1)[1] for label in turn.expect if label.startswith("faq/")]
    clarified = not right and any(_offers(reply, topic) for topic in topics)
    verdict = "right" if right else "clarified" if clarified else "wrong"
    gives_a_way = bool(reply.payloads) or "?" in reply.text or offers_person(reply)
    dead_end = not right and not gives_a_way
    repeat = previous is not None and bool(reply.text) and reply.text == previous.text
    return verdict, dead_end, repeat


def evaluate(url: str, conversations: Iterable[Conversation], api_token: str) -> list[Outcome]:
    patterns = _response_patterns()
    outcomes = []
    with httpx.Client(timeout=60) as client:
        for number, conversation in enumerate(conversations):
            replies = run_conversation(client, url, conversation, api_token, number)
            previous = None
            for index, turn in enumerate(conversation.turns):
                reply = replies[index] if index < len(replies) else Reply()
                _name_responses(reply, patterns)
                verdict, dead_end, repeat = judge(turn, reply, previous)
                outcomes.append(
                    Outcome(
                        conversation.name, conversation.source, turn.text, turn.expect,
                        verdict, dead_end, repeat, reply.text,
                    )
                )  # fmt: skip
                previous = reply
    return outcomes


def rates(outcomes: list[Outcome]) -> dict[str, float]:
    total = len(outcomes) or 1
    return {
        "replies": len(outcomes),
        "right": sum(o.verdict == "right" for o in outcomes) / total,
        "clarified": sum(o.verdict == "clarified" for o in outcomes) / total,
        "wrong": sum(o.verdict == "wrong" for o in outcomes) / total,
        "dead_end": sum(o.dead_end for o in outcomes) / total,
        "repeat": sum(o.repeat for o in outcomes) / total,
    }


def summary(outcomes: list[Outcome]) -> str:
    lines = []
    for source in ("visitor set", "stories"):
        part = [o for o in outcomes if o.source == source]
        if not part:
            continue
        r = rates(part)
        lines.append(
            f"{source}: {r['replies']} replies: right {r['right']:.0%}, clarified "
            f"{r['clarified']:.0%}, wrong {r['wrong']:.0%}, dead end {r['dead_end']:.0%}, "
            f"repeat {r['repeat']:.0%}"
        )
    return "\n".join(lines)


def failures(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        if o.verdict != "right" or o.dead_end or o.repeat:
            flags = ", ".join(f for f, on in (("dead end", o.dead_end), ("repeat", o.repeat)) if on)
            reply = " ".join(o.reply.split())[:140]
            lines.append(
                f"[{o.verdict}{', ' + flags if flags else ''}] {o.conversation}: {o.message!r}"
                f" expected {o.expect} got {reply!r}"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else "http://127.0.0.1:5005"
    # The engine must run with RASA_ENABLE_API=true and this RASA_API_TOKEN (trackers are read).
    outcomes = evaluate(
        url, visitor_conversations() + story_conversations(), os.environ["RASA_API_TOKEN"]
    )
    print(failures(outcomes))
    print(summary(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
