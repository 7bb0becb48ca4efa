"""What visitors ask that the assistant could not answer, read from the event broker's database.

The broker (bot/event_broker.py) keeps one row per user message, bot message and action. A turn
is a user message with the actions that followed it; a turn is *unanswered* when one of those
actions is a clarification, the out-of-scope answer or a handoff to a person. Staff see those
messages masked, grouped by their normal form and counted per ISO week, with the topic the
assistant guessed.

The weekly aggregates (counts only: no text, no ids) live in their own table and outlive the raw
events, which follow the conversation retention. They are refreshed before every purge, and a
refresh never lowers a count, so a purge cannot shrink history.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    func,
    inspect,
    not_,
    select,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from bot.event_rows import MAX_ID_CHARS, MAX_NAME_CHARS, TABLE
from kvo.db import normalize_database_url
from kvo.question_masking import mask, normalise
from kvo.settings import REPO_ROOT, Settings, get_settings
from kvo.timeutil import ensure_utc

DEFAULT_EVENTS_DB = REPO_ROOT / "var" / "events.db"
DOMAIN_FILE = REPO_ROOT / "domain.yml"
RESPONSES_DIR = REPO_ROOT / "data" / "responses"

CLARIFICATION = "clarification"
OUT_OF_SCOPE = "out_of_scope"
HANDOFF = "handoff"
OUTCOMES = (CLARIFICATION, OUT_OF_SCOPE, HANDOFF)
# The actions and responses (domain.yml, data/rules) that mean a turn was not answered. Names of
# Rasa's own fallbacks are listed too, so a domain that switches to them keeps being counted.
OUTCOME_OF_STEP: dict[str, str] = {
    "action_clarify": CLARIFICATION,
    "action_core_fallback": CLARIFICATION,
    "action_default_ask_affirmation": CLARIFICATION,
    "action_default_fallback": CLARIFICATION,
    "utter_ask_rephrase": CLARIFICATION,
    "utter_default": CLARIFICATION,
    "utter_out_of_scope": OUT_OF_SCOPE,
    "action_out_of_scope": OUT_OF_SCOPE,
    "action_handoff": HANDOFF,
    "utter_handoff": HANDOFF,
    "utter_handoff_with_hours": HANDOFF,
}
# When one turn has several, the strongest signal wins.
_OUTCOME_RANK = {HANDOFF: 0, OUT_OF_SCOPE: 1, CLARIFICATION: 2}

FEEDBACK_VOTES = ("up", "down")
METRIC_CONVERSATIONS = "conversations"
# Weekly metrics: conversations, one per outcome, and feedback_up / feedback_down.
METRICS = (METRIC_CONVERSATIONS, *OUTCOMES, *(f"feedback_{vote}" for vote in FEEDBACK_VOTES))

MAX_EXPORT_EXAMPLES = 5000

metadata = MetaData()
EVENTS = Table(
    TABLE,
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(MAX_ID_CHARS), nullable=False, index=True),
    Column("ts", Float, nullable=False, index=True),
    Column("type", String(16), nullable=False),
    Column("text", Text),
    Column("intent", String(MAX_NAME_CHARS)),
    Column("confidence", Float),
    Column("guess", String(MAX_NAME_CHARS)),
    Column("response", String(MAX_NAME_CHARS)),
    Column("action", String(MAX_NAME_CHARS)),
)
# One vote per chat session and topic (a second click changes it). The session id is stored only
# as a hash: enough to find the vote again on erasure of that conversation.
FEEDBACK = Table(
    "visitor_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_key", String(64), nullable=False),
    Column("ts", Float, nullable=False, index=True),
    Column("topic", String(MAX_NAME_CHARS), nullable=False),
    Column("vote", String(8), nullable=False),
    UniqueConstraint("conversation_key", "topic", name="uq_visitor_feedback_session_topic"),
)
WEEKLY = Table(
    "visitor_weekly",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("week", String(8), nullable=False),
    Column("metric", String(32), nullable=False),
    Column("topic", String(MAX_NAME_CHARS), nullable=False, default=""),
    Column("count", Integer, nullable=False),
    UniqueConstraint("week", "metric", "topic", name="uq_visitor_weekly"),
)


# --- database --------------------------------------------------------------------------------


def events_url(settings: Settings | None = None) -> URL:
    """EVENTS_DB_URL, else the broker's default file; relative SQLite paths from the repo root."""
    settings = settings or get_settings()
    url = normalize_database_url(settings.events_db_url or f"sqlite:///{DEFAULT_EVENTS_DB}")
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        if not path.is_absolute():
            url = url.set(database=str(REPO_ROOT / path))
    return url


def events_engine(url: str | URL | None = None, *, create: bool = True) -> Engine:
    """An engine on the events database, with our tables created when missing (the broker
    creates the events table itself; the feedback and weekly tables are ours)."""
    parsed = normalize_database_url(url) if url is not None else events_url()
    if parsed.get_backend_name() == "sqlite":
        if parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 10}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    else:
        engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    if create:
        metadata.create_all(engine)
    return engine


def has_visitor_events(engine: Engine) -> bool:
    return inspect(engine).has_table(TABLE)


# --- weeks -----------------------------------------------------------------------------------


def iso_week(epoch: float, tz: ZoneInfo) -> str:
    year, week, _ = datetime.fromtimestamp(epoch, tz).isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_bounds(week: str, tz: ZoneInfo) -> tuple[float, float]:
    """Epoch range [start, end) of an ISO week such as ``2026-W48``; ValueError when malformed."""
    year_text, sep, week_text = week.partition("-W")
    if not sep or len(year_text) != 4 or len(week_text) != 2:
        raise ValueError("week must look like 2026-W48")
    start = datetime.fromisocalendar(int(year_text), int(week_text), 1).replace(tzinfo=tz)
    end_day = datetime.fromisocalendar(int(year_text), int(week_text), 7).replace(tzinfo=tz)
    return start.timestamp(), (end_day + timedelta(days=1)).timestamp()


# --- turns -----------------------------------------------------------------------------------


@dataclass
class Turn:
    conversation_id: str
    ts: float
    text: str
    guess: str | None
    outcome: str | None = None


def _turns(rows: Iterable[Sequence[object]]) -> Iterator[Turn]:
    """Turns from rows ordered by conversation and time: a user message plus what followed."""
    current: Turn | None = None
    for conversation_id, ts, kind, text, guess, response, action in rows:
        if kind == "user":
            if current is not None:
                yield current
            current = Turn(str(conversation_id), float(ts), str(text or ""), guess)  # type: ignore[arg-type]
            continue
        if current is None or current.conversation_id != conversation_id:
            if current is not None:
                yield current
                current = None
            continue
        outcome = OUTCOME_OF_STEP.get(str(action or response or ""))
        if outcome and (
            current.outcome is None or _OUTCOME_RANK[outcome] < _OUTCOME_RANK[current.outcome]
        ):
            current.outcome = outcome
    if current is not None:
        yield current


def _typed_text(text: str) -> bool:
    """Button clicks arrive as `/intent{...}` payloads: not something a visitor asked."""
    return bool(text.strip()) and not text.lstrip().startswith("/")


def _load_turns(engine: Engine, start: float | None = None, end: float | None = None) -> list[Turn]:
    query = select(
        EVENTS.c.conversation_id,
        EVENTS.c.ts,
        EVENTS.c.type,
        EVENTS.c.text,
        EVENTS.c.guess,
        EVENTS.c.response,
        EVENTS.c.action,
    ).order_by(EVENTS.c.conversation_id, EVENTS.c.ts, EVENTS.c.id)
    if start is not None:
        query = query.where(EVENTS.c.ts >= start)
    if end is not None:
        query = query.where(EVENTS.c.ts < end)
    with engine.connect() as connection:
        return list(_turns(connection.execute(query)))


# --- the questions list ----------------------------------------------------------------------


@dataclass
class QuestionGroup:
    week: str
    outcome: str
    text: str  # masked; the most frequent spelling of the group
    count: int
    topic: str | None  # the assistant's most frequent guess
    first_seen: float
    last_seen: float
    _spellings: Counter[str] = field(default_factory=Counter, repr=False)
    _topics: Counter[str] = field(default_factory=Counter, repr=False)


def unanswered_groups(
    engine: Engine,
    *,
    week: str | None = None,
    outcome: str | None = None,
    tz: ZoneInfo | None = None,
) -> list[QuestionGroup]:
    """Unanswered messages, masked and grouped per week, outcome and normal form; busiest first."""
    tz = tz or get_settings().tzinfo
    start, end = week_bounds(week, tz) if week else (None, None)
    groups: dict[tuple[str, str, str], QuestionGroup] = {}
    for turn in _load_turns(engine, start, end):
        if turn.outcome is None or not _typed_text(turn.text):
            continue
        if outcome and turn.outcome != outcome:
            continue
        masked = mask(turn.text)
        key_text = normalise(masked)
        if not key_text:
            continue
        turn_week = iso_week(turn.ts, tz)
        key = (turn_week, turn.outcome, key_text)
        group = groups.get(key)
        if group is None:
            group = groups[key] = QuestionGroup(
                turn_week, turn.outcome, masked, 0, None, turn.ts, turn.ts
            )
        group.count += 1
        group.first_seen = min(group.first_seen, turn.ts)
        group.last_seen = max(group.last_seen, turn.ts)
        group._spellings[masked] += 1
        if turn.guess:
            group._topics[turn.guess] += 1
    for group in groups.values():
        group.text = group._spellings.most_common(1)[0][0]
        group.topic = group._topics.most_common(1)[0][0] if group._topics else None
    return sorted(groups.values(), key=lambda g: (g.week, g.count, g.last_seen), reverse=True)


# --- feedback --------------------------------------------------------------------------------


def conversation_key(conversation_id: str) -> str:
    return hashlib.sha256(conversation_id.encode()).hexdigest()


@lru_cache(maxsize=4)
def faq_topics(files: tuple[Path, ...] | None = None) -> frozenset[str]:
    """The FAQ topics of the domain, as the channel sends them: ``faq/<topic>`` for every
    ``utter_faq/<topic>`` response in domain.yml and data/responses/*.yml."""
    if files is None:
        files = (DOMAIN_FILE, *sorted(RESPONSES_DIR.glob("*.yml")))
    topics: set[str] = set()
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        responses = data.get("responses") if isinstance(data, dict) else None
        if isinstance(responses, dict):
            topics.update(
                name.removeprefix("utter_")
                for name in responses
                if isinstance(name, str) and name.startswith("utter_faq/")
            )
    return frozenset(topics)


def record_feedback(
    engine: Engine, session_id: str, topic: str, vote: str, now: datetime | None = None
) -> None:
    """Store a visitor's vote on a FAQ answer; a new vote on the same topic replaces the old."""
    if vote not in FEEDBACK_VOTES:
        raise ValueError("vote must be up or down")
    key = conversation_key(session_id)
    moment = ensure_utc(now).timestamp()
    with engine.begin() as connection:
        changed = connection.execute(
            update(FEEDBACK)
            .where(FEEDBACK.c.conversation_key == key, FEEDBACK.c.topic == topic)
            .values(vote=vote, ts=moment)
        ).rowcount
        if not changed:
            connection.execute(
                FEEDBACK.insert().values(conversation_key=key, topic=topic, vote=vote, ts=moment)
            )


# --- weekly aggregates -----------------------------------------------------------------------


def _live_counts(engine: Engine, tz: ZoneInfo) -> Counter[tuple[str, str, str]]:
    """(week, metric, topic) -> count from the raw events and feedback still stored."""
    counts: Counter[tuple[str, str, str]] = Counter()
    conversations: dict[str, set[str]] = defaultdict(set)
    for turn in _load_turns(engine):
        week = iso_week(turn.ts, tz)
        conversations[week].add(turn.conversation_id)
        if turn.outcome and _typed_text(turn.text):
            counts[(week, turn.outcome, turn.guess or "")] += 1
    for week, ids in conversations.items():
        counts[(week, METRIC_CONVERSATIONS, "")] = len(ids)
    with engine.connect() as connection:
        for ts, topic, vote in connection.execute(
            select(FEEDBACK.c.ts, FEEDBACK.c.topic, FEEDBACK.c.vote)
        ):
            counts[(iso_week(ts, tz), f"feedback_{vote}", topic)] += 1
    return counts


def refresh_weekly(engine: Engine, tz: ZoneInfo | None = None) -> int:
    """Fold the raw data into the weekly table; a count is only ever raised. Returns rows changed."""
    tz = tz or get_settings().tzinfo
    live = _live_counts(engine, tz)
    changed = 0
    with engine.begin() as connection:
        stored = {
            (week, metric, topic): (row_id, count)
            for row_id, week, metric, topic, count in connection.execute(
                select(WEEKLY.c.id, WEEKLY.c.week, WEEKLY.c.metric, WEEKLY.c.topic, WEEKLY.c.count)
            )
        }
        for key, count in live.items():
            old = stored.get(key)
            if old is None:
                week, metric, topic = key
                connection.execute(
                    WEEKLY.insert().values(week=week, metric=metric, topic=topic, count=count)
                )
                changed += 1
            elif count > old[1]:
                connection.execute(update(WEEKLY).where(WEEKLY.c.id == old[0]).values(count=count))
                changed += 1
    return changed


@dataclass
class WeekStats:
    week: str
    conversations: int = 0
    unanswered: int = 0
    by_outcome: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    feedback_up: int = 0
    feedback_down: int = 0


def weekly_stats(
    engine: Engine, weeks: int = 12, tz: ZoneInfo | None = None
) -> tuple[list[WeekStats], dict[str, dict[str, int]]]:
    """The last ``weeks`` weeks with data (oldest first) and 👍/👎 per topic over those weeks."""
    # A concurrent refresh may insert the same week first: its counts are as good as ours.
    with suppress(IntegrityError):
        refresh_weekly(engine, tz)
    with engine.connect() as connection:
        rows = list(
            connection.execute(
                select(WEEKLY.c.week, WEEKLY.c.metric, WEEKLY.c.topic, WEEKLY.c.count)
            )
        )
    recent = sorted({week for week, *_ in rows}, reverse=True)[:weeks]
    stats = {week: WeekStats(week) for week in recent}
    feedback: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FEEDBACK_VOTES, 0))
    for week, metric, topic, count in rows:
        entry = stats.get(week)
        if entry is None:
            continue
        if metric == METRIC_CONVERSATIONS:
            entry.conversations += count
        elif metric in OUTCOMES:
            entry.by_outcome[metric] += count
            entry.unanswered += count
        elif metric.startswith("feedback_"):
            vote = metric.removeprefix("feedback_")
            if vote in FEEDBACK_VOTES:
                setattr(entry, metric, getattr(entry, metric) + count)
                feedback[topic][vote] += count
    return [stats[week] for week in sorted(stats)], dict(feedback)


# --- retention and erasure -------------------------------------------------------------------


@dataclass(frozen=True)
class RawPurge:
    conversations: int
    events: int
    feedback: int


def purge_raw(
    engine: Engine,
    cutoff: datetime,
    *,
    conversation_ids: Sequence[str] = (),
    tz: ZoneInfo | None = None,
) -> RawPurge:
    """Delete conversations whose newest event is older than ``cutoff`` (and those in
    ``conversation_ids``, purged from the tracker store) and older feedback, after folding them
    into the weekly aggregates."""
    metadata.create_all(engine)  # the feedback and weekly tables, on a broker-only database
    refresh_weekly(engine, tz)
    epoch = ensure_utc(cutoff).timestamp()
    old = (
        select(EVENTS.c.conversation_id)
        .group_by(EVENTS.c.conversation_id)
        .having(func.max(EVENTS.c.ts) < epoch)
    )
    with engine.begin() as connection:
        ids = sorted(set(connection.scalars(old)) | set(conversation_ids))
        events = 0
        conversations: set[str] = set()
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            # Checked again here: a visitor who came back since the SELECT keeps the conversation.
            active = select(EVENTS.c.conversation_id).where(
                EVENTS.c.conversation_id.in_(batch), EVENTS.c.ts >= epoch
            )
            doomed = and_(
                EVENTS.c.conversation_id.in_(batch), not_(EVENTS.c.conversation_id.in_(active))
            )
            conversations.update(
                connection.scalars(select(EVENTS.c.conversation_id).where(doomed).distinct())
            )
            events += connection.execute(delete(EVENTS).where(doomed)).rowcount or 0
        feedback = connection.execute(delete(FEEDBACK).where(FEEDBACK.c.ts < epoch)).rowcount or 0
    return RawPurge(conversations=len(conversations), events=events, feedback=feedback)


def purge_conversation(
    engine: Engine, conversation_id: str, tz: ZoneInfo | None = None
) -> RawPurge:
    """Erase one conversation (a lead's erasure request); its counts stay in the aggregates."""
    metadata.create_all(engine)  # the feedback and weekly tables, on a broker-only database
    refresh_weekly(engine, tz)
    with engine.begin() as connection:
        events = (
            connection.execute(
                delete(EVENTS).where(EVENTS.c.conversation_id == conversation_id)
            ).rowcount
            or 0
        )
        feedback = (
            connection.execute(
                delete(FEEDBACK).where(
                    FEEDBACK.c.conversation_key == conversation_key(conversation_id)
                )
            ).rowcount
            or 0
        )
    return RawPurge(conversations=1 if events else 0, events=events, feedback=feedback)


# --- export ----------------------------------------------------------------------------------


def _example_line(text: str) -> str:
    """One training example: a single line, no Rasa entity markup from the visitor's text."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = cleaned.replace("[", "(").replace("]", ")")
    return " ".join(cleaned.split())


def export_nlu_yaml(groups: Sequence[QuestionGroup]) -> str:
    """Rasa 3.x NLU training data: one `unlabeled` block per guessed topic, for staff to sort
    into the right intents. The guessed topic is the comment above each block."""
    by_topic: dict[str, Counter[str]] = defaultdict(Counter)
    for group in groups:
        line = _example_line(group.text)
        if line:
            by_topic[group.topic or "onbekend"][line] += group.count
    lines = [
        'version: "3.1"',
        "# Vragen die de assistent niet kon beantwoorden (gemaskeerd), per gegokt onderwerp.",
        "# Verplaats de voorbeelden naar het juiste intent voordat u ze gebruikt om te trainen.",
        "nlu:",
    ]
    written = 0
    for topic in sorted(by_topic):
        if written >= MAX_EXPORT_EXAMPLES:
            break
        examples = by_topic[topic]
        safe_topic = _example_line(topic)
        total = sum(examples.values())
        lines.append(
            f"# gegokt onderwerp: {safe_topic} ({total} {'bericht' if total == 1 else 'berichten'})"
        )
        lines.append("- intent: unlabeled")
        lines.append("  examples: |")
        for text, _count in sorted(examples.items(), key=lambda item: (-item[1], item[0])):
            if written >= MAX_EXPORT_EXAMPLES:
                break
            lines.append(f"    - {text}")
            written += 1
    if len(lines) == 4:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"
