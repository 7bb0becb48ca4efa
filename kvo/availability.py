"""Bookable intake slots: weekly rules minus public holidays, blocked periods and bookings.

Working days are Monday to Friday except Dutch public holidays (the ``holidays``
library, country NL). The earliest bookable slot starts on the next working day
after today (today in the settings' time zone, Europe/Amsterdam): a visitor
booking on Friday afternoon gets Monday at the earliest, on the day before
Ascension Day the Friday after it. Rules are wall-clock times in that time zone,
so a 09:00 slot is 09:00 in summer and in winter; instants are stored in UTC.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import Select, bindparam, delete, func, select, union_all
from sqlalchemy.orm import Session

from kvo.models import (
    AvailabilityRule,
    BlockedPeriod,
    Booking,
    ContactArea,
    Facilitator,
    UTCDateTime,
    bump_rules_version,
)
from kvo.settings import Settings, get_settings
from kvo.timeutil import ensure_utc, local_date

DEFAULT_SLOT_MINUTES = 60
# Calendar days checked slot by slot before counting starts (covers a weekend), and days
# counted per aggregate query at first; that window doubles until enough slots are found or
# the horizon is reached.
_EXACT_DAYS = 4
_FIRST_WINDOW_DAYS = 7
_TOKEN_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})Z\b")


@dataclass(frozen=True)
class Slot:
    """A bookable intake time in a contact area (whoever of its facilitators is free)."""

    starts_at: datetime  # aware UTC
    ends_at: datetime  # aware UTC

    @property
    def token(self) -> str:
        """Compact, stable identifier for a chat button payload: ``2026-12-01T08:00Z`` (UTC)."""
        return self.starts_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class WeeklyRule:
    """Input for :func:`set_weekly_rules`: e.g. ``WeeklyRule(1, time(9), time(12))``."""

    weekday: int  # Monday = 0
    start_time: time
    end_time: time
    slot_minutes: int = DEFAULT_SLOT_MINUTES


def parse_slot_token(text: str | None) -> datetime | None:
    """The UTC start in a :attr:`Slot.token`, or None when the text holds none."""
    match = _TOKEN_RE.search(text or "")
    if match is None:
        return None
    try:
        year, month, day, hour, minute = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        return None


# --- working days ----------------------------------------------------------------------


@lru_cache(maxsize=32)
def _holidays_of(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("NL", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a Dutch public holiday."""
    return day.weekday() < 5 and day not in _holidays_of(day.year)


def next_working_day(after: date) -> date:
    day = after + timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(before: date) -> date:
    day = before - timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def earliest_bookable_day(now: datetime | None = None, settings: Settings | None = None) -> date:
    """The next working day after today (in the settings' time zone)."""
    settings = settings or get_settings()
    return next_working_day(local_date(ensure_utc(now), settings.timezone))


def start_of_next_week(day: date) -> date:
    """The Monday after ``day`` (for "andere week")."""
    return day + timedelta(days=7 - day.weekday())


# --- candidate slots -------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    facilitator_id: int
    weekday: int
    start_time: time
    end_time: time
    slot_minutes: int


# The statements of the search are built once and run with parameters: building and keying a
# statement costs more Python time than the small queries themselves take.
_RULES = (
    select(
        AvailabilityRule.facilitator_id,
        AvailabilityRule.weekday,
        AvailabilityRule.start_time,
        AvailabilityRule.end_time,
        AvailabilityRule.slot_minutes,
    )
    .join(Facilitator, Facilitator.id == AvailabilityRule.facilitator_id)
    .where(
        Facilitator.contact_area == bindparam("area"),
        Facilitator.active.is_(True),
    )
)
_BUSY = union_all(
    select(Booking.facilitator_id, Booking.starts_at, Booking.ends_at).where(
        Booking.facilitator_id.in_(bindparam("ids", expanding=True)),
        Booking.starts_at < bindparam("end", type_=UTCDateTime()),
        Booking.ends_at > bindparam("start", type_=UTCDateTime()),
    ),
    select(BlockedPeriod.facilitator_id, BlockedPeriod.starts_at, BlockedPeriod.ends_at).where(
        BlockedPeriod.facilitator_id.in_(bindparam("ids", expanding=True)),
        BlockedPeriod.starts_at < bindparam("end", type_=UTCDateTime()),
        BlockedPeriod.ends_at > bindparam("start", type_=UTCDateTime()),
    ),
)


@lru_cache(maxsize=4)
def _booked_per_day_statement(dialect: str) -> Select[tuple[str, int]]:
    if dialect == "sqlite":
        # UTCDateTime stores naive UTC text "YYYY-MM-DD HH:MM:SS.ffffff" on SQLite.
        day = func.substr(Booking.starts_at, 1, 10)
    else:
        day = func.to_char(func.timezone("UTC", Booking.starts_at), "YYYY-MM-DD")
    return (
        select(day, func.count())
        .join(
            Facilitator,
            (Facilitator.id == Booking.facilitator_id)
            & (Facilitator.rules_version == Booking.rules_version),
        )
        .where(
            Booking.facilitator_id.in_(bindparam("ids", expanding=True)),
            Booking.starts_at >= bindparam("start", type_=UTCDateTime()),
            Booking.starts_at < bindparam("end", type_=UTCDateTime()),
        )
        .group_by(day)
    )


def _rules(session: Session, contact_area: ContactArea) -> list[_Rule]:
    rows = session.connection().execute(_RULES, {"area": contact_area}).all()
    return [_Rule(*row) for row in rows]


def _slots_per_weekday(rules: Sequence[_Rule]) -> dict[tuple[int, int], int]:
    """(facilitator, weekday) -> number of slots the rules give that day."""
    counts: dict[tuple[int, int], int] = {}
    for rule in rules:
        minutes = (
            datetime.combine(date.min, rule.end_time) - datetime.combine(date.min, rule.start_time)
        ) // timedelta(minutes=rule.slot_minutes)
        key = (rule.facilitator_id, rule.weekday)
        counts[key] = counts.get(key, 0) + max(0, minutes)
    return counts


def _countable(rules: Sequence[_Rule]) -> set[int]:
    """Facilitators whose slots all start at 03:00 local or later: their slots fall on the
    same calendar day in UTC as locally, so bookings can be counted per UTC day."""
    early = {rule.facilitator_id for rule in rules if rule.start_time < time(3)}
    return {rule.facilitator_id for rule in rules} - early


def _booked_per_day(
    session: Session, facilitator_ids: Sequence[int], first: date, last: date, tz: ZoneInfo
) -> dict[str, int]:
    """ "YYYY-MM-DD" (UTC) -> bookings of these facilitators made under their current rules.

    Such a booking sits exactly on one current slot of its facilitator, and the unique
    constraint allows one per start: so a day whose count equals the number of slots of
    these facilitators that day is fully booked. One small row per day, no booking rows.
    """
    if not facilitator_ids:
        return {}
    statement = _booked_per_day_statement(session.get_bind().dialect.name)
    parameters = {
        "ids": list(facilitator_ids),
        "start": _local(first, time(0), tz),
        "end": _local(last + timedelta(days=1), time(0), tz),
    }
    rows = session.connection().execute(statement, parameters).all()
    return {str(bucket): n for bucket, n in rows}


def _local(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def _candidates(
    rules: Sequence[_Rule], first: date, last: date, tz: ZoneInfo
) -> Iterator[tuple[datetime, datetime, int]]:
    """(start, end, facilitator) of every rule slot on the working days first..last."""
    by_weekday: dict[int, list[_Rule]] = {}
    for rule in rules:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    day = first
    while day <= last:
        if is_working_day(day):
            for rule in by_weekday.get(day.weekday(), ()):
                step = timedelta(minutes=rule.slot_minutes)
                # Wall-clock arithmetic: each slot is localised on its own.
                cursor = datetime.combine(day, rule.start_time)
                limit = datetime.combine(day, rule.end_time)
                while cursor + step <= limit:
                    yield (
                        _local(day, cursor.time(), tz),
                        _local(day, (cursor + step).time(), tz),
                        rule.facilitator_id,
                    )
                    cursor += step
        day += timedelta(days=1)


class _Busy:
    """Booked and blocked intervals per facilitator within a window."""

    def __init__(
        self, session: Session, facilitator_ids: Sequence[int], start: datetime, end: datetime
    ) -> None:
        intervals: dict[int, list[tuple[datetime, datetime]]] = {}
        # One round trip for bookings and blocked periods; Core rows, no ORM bookkeeping.
        parameters = {"ids": list(facilitator_ids), "start": start, "end": end}
        for facilitator_id, busy_start, busy_end in (
            session.connection().execute(_BUSY, parameters).all()
        ):
            intervals.setdefault(facilitator_id, []).append((busy_start, busy_end))
        # Per facilitator: interval starts in order, and the latest end among the first i+1
        # intervals, so an overlap test is one binary search even with long blocked periods.
        self._starts: dict[int, list[datetime]] = {}
        self._max_ends: dict[int, list[datetime]] = {}
        for facilitator_id, items in intervals.items():
            items.sort()
            self._starts[facilitator_id] = [item[0] for item in items]
            running: list[datetime] = []
            for _busy_start, busy_end in items:
                running.append(max(running[-1], busy_end) if running else busy_end)
            self._max_ends[facilitator_id] = running

    def overlaps(self, facilitator_id: int, start: datetime, end: datetime) -> bool:
        starts = self._starts.get(facilitator_id)
        if not starts:
            return False
        # Intervals starting before `end` overlap when one of them ends after `start`.
        index = bisect.bisect_left(starts, end)
        return index > 0 and self._max_ends[facilitator_id][index - 1] > start


def _free_in_window(
    session: Session, rules: Sequence[_Rule], first: date, last: date, tz: ZoneInfo
) -> list[tuple[datetime, datetime, int]]:
    """Free (start, end, facilitator) in the window, in time order."""
    candidates = sorted(_candidates(rules, first, last, tz))
    if not candidates:
        return []
    facilitator_ids = sorted({rule.facilitator_id for rule in rules})
    busy = _Busy(session, facilitator_ids, candidates[0][0], candidates[-1][1])
    return [c for c in candidates if not busy.overlaps(c[2], c[0], c[1])]


def _bounds(now: datetime, start_on: date | None, settings: Settings) -> tuple[date, date]:
    earliest = earliest_bookable_day(now, settings)
    first = max(earliest, start_on) if start_on else earliest
    last = local_date(now, settings.timezone) + timedelta(days=settings.booking_horizon_days)
    return first, last


def free_slots(
    session: Session,
    contact_area: ContactArea,
    now: datetime | None = None,
    *,
    count: int = 3,
    start_on: date | None = None,
    settings: Settings | None = None,
) -> tuple[Slot, ...]:
    """The ``count`` earliest free slots of a contact area, from ``start_on`` at the earliest.

    A slot is free when at least one active facilitator of the area has it in a
    weekly rule on a working day, and has no booking or blocked period overlapping
    it. Slots before the next working day, or beyond the booking horizon, are never
    offered. Read-only.

    Days on which every facilitator is fully booked are skipped on counts from the
    database; only the remaining days are checked slot by slot, so a calendar that is
    full for months costs a few aggregate queries, not thousands of rows.
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    tz = settings.tzinfo
    rules = _rules(session, contact_area)
    first, last = _bounds(now, start_on, settings)
    slots_per_weekday = _slots_per_weekday(rules)
    countable = _countable(rules)
    facilitator_ids = sorted({rule.facilitator_id for rule in rules})
    found: dict[datetime, datetime] = {}

    def collect(free: list[tuple[datetime, datetime, int]]) -> None:
        for start, end, _facilitator in free:
            # Two facilitators free at the same time are one offer to the visitor.
            if start not in found or end < found[start]:
                found[start] = end

    if rules and first <= last:
        # The first days slot by slot in one query: usually enough, and then no counting.
        exact_last = min(first + timedelta(days=_EXACT_DAYS - 1), last)
        collect(_free_in_window(session, rules, first, exact_last, tz))
        first = exact_last + timedelta(days=1)
    window = _FIRST_WINDOW_DAYS
    while rules and first <= last and len(found) < count:
        window_last = min(first + timedelta(days=window - 1), last)
        booked = _booked_per_day(session, sorted(countable), first, window_last, tz)
        day = first
        while day <= window_last and len(found) < count:
            if is_working_day(day) and _may_have_room(
                day, facilitator_ids, slots_per_weekday, countable, booked
            ):
                collect(_free_in_window(session, rules, day, day, tz))
            day += timedelta(days=1)
        first = window_last + timedelta(days=1)
        window *= 2
    return tuple(Slot(start, found[start]) for start in sorted(found)[:count])


def _may_have_room(
    day: date,
    facilitator_ids: Sequence[int],
    slots_per_weekday: dict[tuple[int, int], int],
    countable: set[int],
    booked: dict[str, int],
) -> bool:
    """False only when the facilitators with slots that day are provably fully booked."""
    total = 0
    for facilitator_id in facilitator_ids:
        slots = slots_per_weekday.get((facilitator_id, day.weekday()), 0)
        if slots and facilitator_id not in countable:
            return True  # cannot count this one: look slot by slot
        total += slots
    return total > 0 and booked.get(day.isoformat(), 0) < total


def free_facilitators_at(
    session: Session,
    contact_area: ContactArea,
    starts_at: datetime,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> list[tuple[int, datetime]]:
    """(facilitator id, slot end) of everyone in the area free for a slot starting then.

    Empty when that start is not (or no longer) a bookable slot: outside the rules,
    on a holiday, too soon, beyond the horizon, blocked or booked.
    """
    settings = settings or get_settings()
    now = ensure_utc(now)
    starts_at = ensure_utc(starts_at)
    day = local_date(starts_at, settings.timezone)
    first, last = _bounds(now, day, settings)
    if day != first or day > last:
        return []
    rules = _rules(session, contact_area)
    return [
        (facilitator, end)
        for start, end, facilitator in _free_in_window(session, rules, day, day, settings.tzinfo)
        if start == starts_at
    ]


# --- staff operations (CLI, staff API, demo data) --------------------------------------


def is_facilitator_free(
    session: Session, facilitator_id: int, starts_at: datetime, ends_at: datetime
) -> bool:
    """No booking or blocked period of this facilitator overlaps the period (rules aside)."""
    starts_at, ends_at = ensure_utc(starts_at), ensure_utc(ends_at)
    return not _Busy(session, [facilitator_id], starts_at, ends_at).overlaps(
        facilitator_id, starts_at, ends_at
    )


def set_weekly_rules(session: Session, facilitator_id: int, rules: Sequence[WeeklyRule]) -> None:
    """Replace a facilitator's weekly rules. Existing bookings stay as they are."""
    session.execute(
        delete(AvailabilityRule).where(AvailabilityRule.facilitator_id == facilitator_id)
    )
    # A bulk delete skips the ORM listeners: mark the change here.
    bump_rules_version(session, facilitator_id)
    session.add_all(
        AvailabilityRule(
            facilitator_id=facilitator_id,
            weekday=rule.weekday,
            start_time=rule.start_time,
            end_time=rule.end_time,
            slot_minutes=rule.slot_minutes,
        )
        for rule in rules
    )
    session.flush()


def add_blocked_period(
    session: Session,
    facilitator_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str | None = None,
) -> int:
    """Block a period (e.g. leave); returns its id. Bookings inside it are not touched."""
    period = BlockedPeriod(
        facilitator_id=facilitator_id,
        starts_at=ensure_utc(starts_at),
        ends_at=ensure_utc(ends_at),
        reason=reason,
    )
    session.add(period)
    session.flush()
    return period.id
