"""What visitors ask: masking, grouping per ISO week, feedback, aggregates, retention, export.

The events are written as the broker writes them (bot.event_rows.event_row on Rasa-shaped event
dicts) into a real database per backend; the broker itself under the engine is tested in
tests/conversation/test_conversation_event_broker.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from bot.event_rows import event_row
from kvo import visitor_questions as vq
from kvo.cli import app
from kvo.question_masking import mask, normalise
from tests.support import ENGINE_PYTHON, REPO, require

TZ = ZoneInfo("Europe/Amsterdam")
# Wednesdays at noon: safely inside ISO weeks 2026-W10 and 2026-W11.
WEEK_10 = datetime(2026, 3, 4, 12, tzinfo=UTC)
WEEK_11 = datetime(2026, 3, 11, 12, tzinfo=UTC)


# --- masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail mij op jan.de.vries@example.nl", "Mail mij op <e-mail>"),
        ("Bel 06-12345678 of +31 (0)6 1234 5678", "Bel <telefoonnummer> of <telefoonnummer>"),
        ("mijn nummer is 013 - 123 45 67", "mijn nummer is <telefoonnummer>"),
        ("code ABCD-EFGH werkt niet", "code <code> werkt niet"),
        ("code abcd-efgh en AB3DEFG7", "code <code> en <code>"),
        ("status KVO-2024-0031 en kvo 2024 31", "status <KVO-referentie> en <KVO-referentie>"),
        ("afspraak INT-AB23CD verzetten", "afspraak <INT-referentie> verzetten"),
    ],
)
def test_personal_details_and_codes_are_masked(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Is het keurmerk kosteloos voor samenwerking in Noord-Brabant?",
        "Wij zitten op postcode 5000 AB sinds 2024",
        "Afspraak op 12-03-2026 om 10.30 uur",
        "Hoeveel sterren krijgt een bedrijventerrein?",
    ],
)
def test_ordinary_words_numbers_and_dates_stay(text: str) -> None:
    assert mask(text) == text


def test_normal_form_ignores_case_punctuation_and_spacing() -> None:
    assert normalise(mask("Wat KOST  het?!")) == normalise(mask("wat kost het"))
    assert normalise(mask("Bel 0612345678.")) == "bel <telefoonnummer>"


# --- a conversation log as the broker writes it ----------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, fresh_database_url: Callable[[str], str]
) -> Iterator[Engine]:
    events_engine = vq.events_engine(fresh_database_url(request.param))
    yield events_engine
    events_engine.dispose()


class Log:
    """Writes conversation turns as Rasa events through the broker's row conversion."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def turn(
        self,
        conversation: str,
        at: datetime,
        text: str,
        steps: list[str],
        intent: str = "nlu_fallback",
        guess: str | None = "faq/kosten_subsidie",
    ) -> None:
        moment = at.timestamp()
        ranking = [{"name": intent, "confidence": 0.4}]
        if guess:
            ranking.append({"name": "faq", "confidence": 0.3})
        events = [
            {
                "event": "user",
                "sender_id": conversation,
                "timestamp": moment,
                "text": text,
                "parse_data": {
                    "intent": {"name": intent, "confidence": 0.4},
                    "intent_ranking": ranking,
                    "response_selector": {
                        "faq": {"response": {"intent_response_key": guess or ""}}
                    },
                },
                "metadata": {"client_key": "secret-client"},
            }
        ]
        for offset, step in enumerate(steps, start=1):
            events.append(
                {
                    "event": "action",
                    "sender_id": conversation,
                    "timestamp": moment + offset / 10,
                    "name": step,
                }
            )
            if step.startswith("utter_"):
                events.append(
                    {
                        "event": "bot",
                        "sender_id": conversation,
                        "timestamp": moment + offset / 10,
                        "text": "...",
                        "metadata": {"utter_action": step},
                    }
                )
        # A slot event too: the broker must not keep it.
        events.append(
            {"event": "slot", "sender_id": conversation, "timestamp": moment, "name": "x"}
        )
        rows = [row for row in map(event_row, events) if row is not None]
        with self.engine.begin() as connection:
            connection.execute(vq.EVENTS.insert(), rows)


@pytest.fixture
def log(engine: Engine) -> Log:
    return Log(engine)


def _fill(log: Log) -> None:
    # Week 10: the same question three times in different spellings, in two conversations.
    log.turn("c1", WEEK_10, "Wat kost het keurmerk voor mij?", ["action_clarify"])
    log.turn(
        "c1", WEEK_10 + timedelta(minutes=1), "wat KOST het keurmerk voor mij", ["action_clarify"]
    )
    log.turn(
        "c2",
        WEEK_10 + timedelta(hours=1),
        "Wat kost het keurmerk voor mij!!",
        ["action_clarify"],
        guess="faq/kosten_subsidie",
    )
    # Answered questions and button clicks are not listed.
    log.turn(
        "c2",
        WEEK_10 + timedelta(hours=3),
        "Wat is het KVO?",
        ["utter_faq"],
        intent="faq",
        guess="faq/wat_is_kvo",
    )
    log.turn(
        "c2", WEEK_10 + timedelta(hours=2), '/choose_faq{"faq_topic": "x"}', ["action_clarify"]
    )
    # Out of scope and handoff, with personal details that must be masked.
    log.turn("c3", WEEK_10, "Kunt u mijn fiets repareren? bel 0612345678", ["utter_out_of_scope"])
    log.turn(
        "c3",
        WEEK_10 + timedelta(minutes=2),
        "Ik wil een mens spreken, mail jan@example.nl",
        ["action_handoff"],
        intent="human_handoff",
        guess=None,
    )
    # Week 11: one clarification.
    log.turn("c4", WEEK_11, "hoe zit het met de sterren", ["action_clarify"], guess="faq/sterren")


def test_unanswered_messages_are_masked_grouped_and_counted_per_week(log: Log) -> None:
    _fill(log)
    groups = vq.unanswered_groups(log.engine, tz=TZ)
    summary = [(g.week, g.outcome, g.text, g.count, g.topic) for g in groups]
    assert ("2026-W11", "clarification", "hoe zit het met de sterren", 1, "faq/sterren") in summary
    kosten = [
        g for g in groups if g.topic == "faq/kosten_subsidie" and g.outcome == "clarification"
    ]
    assert len(kosten) == 1 and kosten[0].count == 3 and kosten[0].week == "2026-W10"
    texts = {g.text for g in groups}
    assert "Kunt u mijn fiets repareren? bel <telefoonnummer>" in texts
    assert "Ik wil een mens spreken, mail <e-mail>" in texts
    assert not any("0612345678" in t or "jan@example.nl" in t for t in texts)
    assert not any(t.startswith("/") or "Wat is het KVO" in t for t in texts)
    assert len(groups) == 4


def test_filters_by_week_and_outcome(log: Log) -> None:
    _fill(log)
    week_11 = vq.unanswered_groups(log.engine, week="2026-W11", tz=TZ)
    assert [g.text for g in week_11] == ["hoe zit het met de sterren"]
    handoffs = vq.unanswered_groups(log.engine, outcome="handoff", tz=TZ)
    assert [(g.outcome, g.topic) for g in handoffs] == [("handoff", "human_handoff")]
    with pytest.raises(ValueError):
        vq.week_bounds("2026-48", TZ)


def test_weekly_stats_count_conversations_unanswered_and_feedback(log: Log) -> None:
    _fill(log)
    vq.record_feedback(log.engine, "session-a", "faq/kosten_subsidie", "up", now=WEEK_10)
    vq.record_feedback(log.engine, "session-b", "faq/kosten_subsidie", "down", now=WEEK_10)
    # A second vote of the same session on the same topic replaces the first.
    vq.record_feedback(log.engine, "session-b", "faq/kosten_subsidie", "up", now=WEEK_10)
    vq.record_feedback(log.engine, "session-b", "faq/sterren", "down", now=WEEK_11)
    weeks, feedback = vq.weekly_stats(log.engine, tz=TZ)
    assert [w.week for w in weeks] == ["2026-W10", "2026-W11"]
    w10, w11 = weeks
    assert (w10.conversations, w10.unanswered) == (3, 5)
    assert w10.by_outcome == {"clarification": 3, "out_of_scope": 1, "handoff": 1}
    assert (w10.feedback_up, w10.feedback_down) == (2, 0)
    assert (w11.conversations, w11.unanswered, w11.feedback_down) == (1, 1, 1)
    assert feedback == {
        "faq/kosten_subsidie": {"up": 2, "down": 0},
        "faq/sterren": {"up": 0, "down": 1},
    }


def test_retention_purge_keeps_the_weekly_aggregates(log: Log) -> None:
    _fill(log)
    vq.record_feedback(log.engine, "session-a", "faq/sterren", "up", now=WEEK_10)
    before, feedback_before = vq.weekly_stats(log.engine, tz=TZ)
    # Everything of week 10 is older than the cutoff; week 11 stays.
    result = vq.purge_raw(log.engine, WEEK_11 - timedelta(days=1), tz=TZ)
    assert (result.conversations, result.feedback) == (3, 1)
    with log.engine.connect() as connection:
        left = set(connection.scalars(select(vq.EVENTS.c.conversation_id).distinct()))
        assert left == {"c4"}
        assert connection.scalar(select(func.count()).select_from(vq.FEEDBACK)) == 0
    assert [g.week for g in vq.unanswered_groups(log.engine, tz=TZ)] == ["2026-W11"]
    after, feedback_after = vq.weekly_stats(log.engine, tz=TZ)
    assert after == before and feedback_after == feedback_before
    # The aggregates hold counts only: no visitor text, no ids.
    with log.engine.connect() as connection:
        topics = set(connection.scalars(select(vq.WEEKLY.c.topic)))
    assert topics <= {"", "faq/kosten_subsidie", "faq/sterren", "human_handoff"}


def test_one_conversation_can_be_erased(log: Log) -> None:
    _fill(log)
    vq.record_feedback(log.engine, "c3", "faq/sterren", "down", now=WEEK_10)
    before, _ = vq.weekly_stats(log.engine, tz=TZ)
    result = vq.purge_conversation(log.engine, "c3", tz=TZ)
    assert (result.conversations, result.feedback) == (1, 1)
    assert result.events > 0
    assert not any("fiets" in g.text for g in vq.unanswered_groups(log.engine, tz=TZ))
    assert vq.weekly_stats(log.engine, tz=TZ)[0] == before


def test_conversations_purge_command_purges_visitor_events(
    log: Log, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(log)
    now = datetime.now(UTC)
    log.turn("recent", now - timedelta(days=2), "iets nieuws", ["action_clarify"])
    for name in ("TRACKER_DB_URL", "PVO_CONVERSATION_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EVENTS_DB_URL", log.engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(app, ["conversations", "purge", "--older-than-days", "30"])
    assert result.exit_code == 0, result.stderr
    assert "Vragen van bezoekers" in result.stdout and "4 gesprekken" in result.stdout
    assert "weektotalen blijven bewaard" in result.stdout
    assert [g.text for g in vq.unanswered_groups(log.engine, tz=TZ)] == ["iets nieuws"]
    weeks, _ = vq.weekly_stats(log.engine, tz=TZ)
    assert "2026-W10" in [w.week for w in weeks]


# --- export ----------------------------------------------------------------------------------

READ_WITH_RASA = """
import sys
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
data = RasaYAMLReader().reads(sys.stdin.read())
print("|".join(sorted(m.get("text") for m in data.training_examples)))
print(sorted(data.intents))
"""


def test_export_is_nlu_training_data_rasa_reads(log: Log) -> None:
    _fill(log)
    # Visitor text that looks like Rasa's entity markup must stay plain text.
    log.turn("c5", WEEK_11, "wat is [KVO](entity) eigenlijk", ["action_clarify"], guess=None)
    exported = vq.export_nlu_yaml(vq.unanswered_groups(log.engine, tz=TZ))
    assert "# gegokt onderwerp: faq/kosten_subsidie (4 berichten)" in exported
    assert "# gegokt onderwerp: onbekend (1 bericht)" in exported
    require(ENGINE_PYTHON.exists(), f"the engine environment is missing ({ENGINE_PYTHON})")
    completed = subprocess.run(
        [str(ENGINE_PYTHON), "-c", READ_WITH_RASA],
        input=exported,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    texts, intents = completed.stdout.strip().splitlines()[-2:]
    assert intents == "['unlabeled']"
    assert "wat is (KVO)(entity) eigenlijk" in texts.split("|")
    assert "Kunt u mijn fiets repareren? bel <telefoonnummer>" in texts.split("|")
    assert len(texts.split("|")) == 5


def test_export_of_nothing_is_valid_yaml() -> None:
    import yaml

    assert yaml.safe_load(vq.export_nlu_yaml([])) == {"version": "3.1", "nlu": []}


def test_faq_topics_come_from_the_domain() -> None:
    topics = vq.faq_topics()
    assert "faq/kosten_subsidie" in topics and "faq/privacy" in topics
    assert all(topic.startswith("faq/") for topic in topics)
    assert json.dumps(sorted(topics))  # plain strings


def test_lead_erasure_purges_the_conversation_from_the_events_database(log: Log) -> None:
    from kvo.retention import purge_conversation_everywhere

    _fill(log)
    before, _ = vq.weekly_stats(log.engine, tz=TZ)
    url = log.engine.url.render_as_string(hide_password=False)
    assert purge_conversation_everywhere("c3", "", url) is True
    assert purge_conversation_everywhere("c3", "", url) is False
    with log.engine.connect() as connection:
        left = set(connection.scalars(select(vq.EVENTS.c.conversation_id).distinct()))
    assert "c3" not in left and "c1" in left
    assert vq.weekly_stats(log.engine, tz=TZ)[0] == before
