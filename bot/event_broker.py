"""Event broker that keeps a small row per conversation event in a separate database.

Configured in endpoints.yml as ``event_broker: {type: bot.event_broker.BufferedSQLEventBroker}``
(Rasa loads any class path given as the type). The database is EVENTS_DB_URL (default
``sqlite:///var/events.db`` under the repository), never the tracker store's: the staff side reads
it for "What visitors ask" and purges it on its own schedule.

Why buffered: Rasa calls ``publish`` on the request path, once per event. Rasa's stock SQL broker
opens a session and commits per event there, which the visitor waits for. Here ``publish`` only
appends to an in-memory queue; a background thread writes the queue in one transaction every
``flush_interval`` seconds (or as soon as ``batch_size`` rows wait). Nothing here ever raises into
Rasa: a failing database costs events (counted in the log), never a conversation.

Runs in the engine's environment (Rasa 3.6, SQLAlchemy 1.4): only SQLAlchemy Core calls that work
the same in 1.4 and 2.0 are used.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import logging
import os
import threading
from asyncio import AbstractEventLoop
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from bot.event_rows import COLUMNS, MAX_ID_CHARS, MAX_NAME_CHARS, TABLE, event_row

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "sqlite:///var/events.db"
DEFAULT_FLUSH_INTERVAL = 0.5
DEFAULT_BATCH_SIZE = 100
# Rows kept in memory while the database is unreachable; beyond this the oldest are dropped, so a
# long outage cannot grow the engine's memory without bound.
DEFAULT_MAX_PENDING = 20_000
CLOSE_TIMEOUT_SECONDS = 10.0


def table_definition(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        TABLE,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(MAX_ID_CHARS), nullable=False, index=True),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("intent", sa.String(MAX_NAME_CHARS)),
        sa.Column("confidence", sa.Float),
        sa.Column("guess", sa.String(MAX_NAME_CHARS)),
        sa.Column("response", sa.String(MAX_NAME_CHARS)),
        sa.Column("action", sa.String(MAX_NAME_CHARS)),
    )


def resolve_url(url: str | None) -> sa.engine.URL:
    """The events database URL; a relative SQLite path is taken from the repository root, so the
    broker and the staff side find the same file whatever their working directory."""
    parsed = sa.engine.make_url(url or os.environ.get("EVENTS_DB_URL") or DEFAULT_URL)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_absolute():
            path = REPO / path
        # A folder that cannot be made is reported by the writer's first flush; the engine
        # starts regardless.
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path))
    return parsed


def _same_database(a: sa.engine.URL, b: str | None) -> bool:
    if not b:
        return False
    try:
        return resolve_url(b).render_as_string(hide_password=False) == a.render_as_string(
            hide_password=False
        )
    except Exception:  # an unparsable tracker URL is the tracker store's problem, not ours
        return False


class BufferedSQLEventBroker(EventBroker):
    """Queues event rows in memory and writes them in batches from a background thread."""

    def __init__(
        self,
        url: str | None = None,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self.url = resolve_url(url)
        self.flush_interval = max(0.05, float(flush_interval))
        self.batch_size = max(1, int(batch_size))
        self.max_pending = max(self.batch_size, int(max_pending))
        self._pending: collections.deque[dict[str, Any]] = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._dropped = 0
        self.written = 0

        self._engine = self._create_engine(self.url)
        self._metadata = sa.MetaData()
        self._table = table_definition(self._metadata)
        # Created by the writer on its first flush: an unreachable database at start-up must
        # not stop the engine from starting.
        self._table_ready = False

        self._thread = threading.Thread(target=self._run, name="event-broker-flush", daemon=True)
        self._thread.start()
        # The engine may stop without calling close() (Ctrl-C during start-up): write what waits.
        atexit.register(self._stop_and_flush)

    @staticmethod
    def _create_engine(url: sa.engine.URL) -> sa.engine.Engine:
        if url.get_backend_name() != "sqlite":
            return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @sa.event.listens_for(engine, "connect")
        def _wal(dbapi_connection: Any, _record: Any) -> None:
            # WAL: the staff API reads while the engine writes, without either waiting.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig,
        event_loop: AbstractEventLoop | None = None,
    ) -> BufferedSQLEventBroker | None:
        kwargs = dict(broker_config.kwargs or {}) if broker_config else {}
        url = resolve_url(getattr(broker_config, "url", None))
        if _same_database(url, os.environ.get("TRACKER_DB_URL")):
            logger.error(
                "EVENTS_DB_URL points at the tracker store's database; the event broker needs a"
                " database of its own. Not storing events."
            )
            return None
        return cls(
            url=url.render_as_string(hide_password=False),
            flush_interval=float(kwargs.get("flush_interval", DEFAULT_FLUSH_INTERVAL)),
            batch_size=int(kwargs.get("batch_size", DEFAULT_BATCH_SIZE)),
            max_pending=int(kwargs.get("max_pending", DEFAULT_MAX_PENDING)),
        )

    # --- the request path: no I/O -----------------------------------------------------------

    def publish(self, event: dict[str, Any]) -> None:
        try:
            row = event_row(event)
            if row is None:
                return
            with self._lock:
                if len(self._pending) >= self.max_pending:
                    self._pending.popleft()
                    self._dropped += 1
                self._pending.append(row)
                full = len(self._pending) >= self.batch_size
            if full:
                self._wake.set()
        except Exception:  # never let bookkeeping break a conversation
            logger.exception("Event broker could not queue an event")

    def is_ready(self) -> bool:
        return self._thread.is_alive()

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._stop_and_flush)

    # --- the background writer ----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self.flush()

    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(self._pending)
            self._pending.clear()
            dropped, self._dropped = self._dropped, 0
        if dropped:
            logger.warning("Event broker dropped %d events (queue full)", dropped)
        return rows

    def flush(self) -> int:
        """Write every queued row now; returns how many were written."""
        rows = self._take()
        if not rows:
            return 0
        try:
            if not self._table_ready:
                self._metadata.create_all(self._engine)
                self._table_ready = True
            with self._engine.begin() as connection:
                connection.execute(self._table.insert(), [{c: r[c] for c in COLUMNS} for r in rows])
        except Exception as error:
            # Only the error's type: its message could quote event values.
            logger.warning(
                "Event broker could not write %d events (%s); will retry",
                len(rows),
                type(error).__name__,
            )
            with self._lock:
                room = self.max_pending - len(self._pending)
                keep = rows[-room:] if room > 0 else []
                self._dropped += len(rows) - len(keep)
                self._pending.extendleft(reversed(keep))
            return 0
        self.written += len(rows)
        return len(rows)

    def _stop_and_flush(self) -> None:
        if self._stopping.is_set() and not self._thread.is_alive():
            return
        self._stopping.set()
        self._wake.set()
        self._thread.join(CLOSE_TIMEOUT_SECONDS)
        self.flush()
        self._engine.dispose()
