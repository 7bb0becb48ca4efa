"""certificate_state thresholds and the month arithmetic behind them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from kvo.certificates import certificate_state
from kvo.timeutil import add_months, ensure_utc, local_date

TODAY = date(2025, 3, 15)


@pytest.mark.parametrize(
    ("expires_on", "state"),
    [
        (None, None),
        (date(2025, 3, 14), "verlopen"),
        (date(2020, 1, 1), "verlopen"),
        (date(2025, 3, 15), "verloopt_binnenkort"),  # last valid day
        (date(2025, 6, 1), "verloopt_binnenkort"),
        (date(2025, 9, 15), "verloopt_binnenkort"),  # exactly six months ahead
        (date(2025, 9, 16), "geldig"),
        (date(2027, 1, 1), "geldig"),
    ],
)
def test_certificate_state_thresholds(expires_on: date | None, state: str | None) -> None:
    assert certificate_state(expires_on, TODAY) == state


def test_six_months_from_the_31st_clamps_to_month_end() -> None:
    today = date(2025, 8, 31)
    assert add_months(today, 6) == date(2026, 2, 28)
    assert certificate_state(date(2026, 2, 28), today) == "verloopt_binnenkort"
    assert certificate_state(date(2026, 3, 1), today) == "geldig"


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 5, 10), -6, date(2023, 11, 10)),
        (date(2024, 5, 10), 36, date(2027, 5, 10)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_local_date_uses_the_time_zone() -> None:
    # 23:30 UTC on 31 Dec is already 1 Jan in Amsterdam.
    moment = datetime(2024, 12, 31, 23, 30, tzinfo=UTC)
    assert local_date(moment, "Europe/Amsterdam") == date(2025, 1, 1)
    assert local_date(moment, "UTC") == date(2024, 12, 31)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ensure_utc(datetime(2024, 1, 1))
    aware = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert ensure_utc(aware).hour == 10
