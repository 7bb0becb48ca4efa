"""Office hours from PVO_OFFICE_HOURS: parsing, open/closed at the boundaries, Dutch wording."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from actions.office_hours import OfficeHours, parse_office_hours

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A week in March 2025: Monday the 10th .. Sunday the 16th.
MONDAY, WEDNESDAY, FRIDAY, SATURDAY, SUNDAY = 10, 12, 14, 15, 16


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, second, tzinfo=AMSTERDAM)


@pytest.mark.parametrize(
    ("spec", "weekdays", "start", "end"),
    [
        ("ma-vr 09:00-17:00", {0, 1, 2, 3, 4}, time(9), time(17)),
        ("ma,wo,vr 10:00-16:00", {0, 2, 4}, time(10), time(16)),
        ("za 9:00-12:00", {5}, time(9), time(12)),
        ("MA-VR 08:30-17:15", {0, 1, 2, 3, 4}, time(8, 30), time(17, 15)),
        ("  ma - do , za   09:00 - 13:00  ", {0, 1, 2, 3, 5}, time(9), time(13)),
        ("za-zo 10:00-11:00", {5, 6}, time(10), time(11)),
        ("ma-zo 00:00-23:59", {0, 1, 2, 3, 4, 5, 6}, time(0), time(23, 59)),
    ],
)
def test_valid_specs_are_parsed(spec: str, weekdays: set[int], start: time, end: time) -> None:
    assert parse_office_hours(spec) == OfficeHours(frozenset(weekdays), start, end)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "   ",
        "ma-vr",
        "09:00-17:00",
        "altijd open",
        "ma-vr 09:00",
        "ma-vr 9-17",
        "ma-vr 09.00-17.00",
        "mo-fr 09:00-17:00",  # English day names
        "maandag-vrijdag 09:00-17:00",
        "ma vr 09:00-17:00",  # two days without a comma
        "ma,,vr 09:00-17:00",
        "ma-wo-vr 09:00-17:00",
        "vr-ma 09:00-17:00",  # range runs backwards
        "ma-vr 17:00-09:00",  # end before start
        "ma-vr 09:00-09:00",  # empty
        "ma-vr 25:00-26:00",
        "ma-vr 09:60-17:00",
        "ma-vr 09:00-24:00",
        "ma-vr 09:00-17:00; za 10:00-12:00",
    ],
)
def test_invalid_specs_raise_value_error(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_office_hours(spec)


def test_the_error_names_the_expected_form() -> None:
    with pytest.raises(ValueError, match="ma-vr 09:00-17:00"):
        parse_office_hours("elke dag")


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (at(MONDAY, 9, 0, 0), True),  # start is inclusive
        (at(MONDAY, 8, 59, 59), False),
        (at(WEDNESDAY, 12, 30), True),
        (at(FRIDAY, 16, 59, 59), True),
        (at(FRIDAY, 17, 0, 0), False),  # end is exclusive
        (at(FRIDAY, 23, 0), False),
        (at(SATURDAY, 10, 0), False),  # weekend
        (at(SUNDAY, 12, 0), False),
    ],
)
def test_is_open_at_the_boundaries(moment: datetime, is_open: bool) -> None:
    assert parse_office_hours("ma-vr 09:00-17:00").is_open(moment) is is_open


def test_is_open_only_on_the_listed_days() -> None:
    hours = parse_office_hours("ma,wo,vr 10:00-16:00")
    assert [hours.is_open(at(day, 11)) for day in range(MONDAY, SUNDAY + 1)] == [
        True,
        False,
        True,
        False,
        True,
        False,
        False,
    ]


def test_saturday_hours() -> None:
    hours = parse_office_hours("za 9:00-12:00")
    assert hours.is_open(at(SATURDAY, 9))
    assert not hours.is_open(at(SATURDAY, 12))
    assert not hours.is_open(at(FRIDAY, 10))


@pytest.mark.parametrize(
    ("spec", "wording"),
    [
        ("ma-vr 09:00-17:00", "maandag t/m vrijdag van 09:00 tot 17:00 uur"),
        ("ma-zo 9:00-17:00", "maandag t/m zondag van 09:00 tot 17:00 uur"),
        ("ma,wo,vr 10:00-16:00", "maandag, woensdag en vrijdag van 10:00 tot 16:00 uur"),
        ("za 9:00-12:00", "zaterdag van 09:00 tot 12:00 uur"),
        ("ma-di 09:00-12:00", "maandag en dinsdag van 09:00 tot 12:00 uur"),
        ("vr,ma 09:00-12:00", "maandag en vrijdag van 09:00 tot 12:00 uur"),
        ("ma-wo,vr 08:30-12:00", "maandag, dinsdag, woensdag en vrijdag van 08:30 tot 12:00 uur"),
    ],
)
def test_describe_in_dutch(spec: str, wording: str) -> None:
    assert parse_office_hours(spec).describe() == wording
