"""Office hours from the PVO_OFFICE_HOURS setting, e.g. "ma-vr 09:00-17:00" or "ma,wo,vr 10:00-16:00"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

DAY_NAMES = ("ma", "di", "wo", "do", "vr", "za", "zo")
FULL_DAY_NAMES = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
_SPEC = re.compile(
    r"^\s*(?P<days>[a-z,\- ]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


@dataclass(frozen=True)
class OfficeHours:
    weekdays: frozenset[int]  # Monday is 0, as in datetime.weekday()
    start: time
    end: time

    def describe(self) -> str:
        """Dutch wording for visitors, e.g. "maandag t/m vrijdag van 09:00 tot 17:00 uur"."""
        days = sorted(self.weekdays)
        if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            day_text = f"{FULL_DAY_NAMES[days[0]]} t/m {FULL_DAY_NAMES[days[-1]]}"
        else:
            names = [FULL_DAY_NAMES[day] for day in days]
            day_text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]
        return f"{day_text} van {self.start:%H:%M} tot {self.end:%H:%M} uur"

    def is_open(self, moment: datetime) -> bool:
        """Whether `moment` (local time of the office) falls inside office hours."""
        return moment.weekday() in self.weekdays and self.start <= moment.time() < self.end


def _day_index(name: str) -> int:
    try:
        return DAY_NAMES.index(name.strip())
    except ValueError:
        raise ValueError(f"unknown day {name.strip()!r}; use {', '.join(DAY_NAMES)}") from None


def parse_office_hours(spec: str) -> OfficeHours:
    """Parse "ma-vr 09:00-17:00"; raises ValueError with a readable reason when it is malformed."""
    match = _SPEC.match(spec.lower())
    if not match:
        raise ValueError(f"office hours {spec!r} are not of the form 'ma-vr 09:00-17:00'")
    weekdays: set[int] = set()
    for part in match["days"].split(","):
        if "-" in part:
            first, last = (_day_index(day) for day in part.split("-", 1))
            if last < first:
                raise ValueError(f"day range {part.strip()!r} runs backwards")
            weekdays.update(range(first, last + 1))
        else:
            weekdays.add(_day_index(part))
    start, end = (time.fromisoformat(match[key].zfill(5)) for key in ("start", "end"))
    if end <= start:
        raise ValueError(f"office hours end {end} is not after start {start}")
    return OfficeHours(frozenset(weekdays), start, end)
