"""Reporting periods: which periods a provider is expected to submit for, by a contract's frequency.

Shared by the simulator (which periods to generate) and the ingest (which submissions are missing), so
the two can never disagree.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from probation_evidence import settings

#: How many periods back each frequency looks from the as-at date (the standard windows).
LOOKBACK = {"snapshot": 1, "weekly": 13, "monthly": 12, "quarterly": 4}
#: Periods in a year, for a run told to expect whole years of history (`settings.history_years`).
PER_YEAR = {"snapshot": 0, "weekly": 52, "monthly": 12, "quarterly": 4}


def lookback(frequency: str) -> int:
    """How many periods of `frequency` a run expects: the standard window, or whole years when set."""
    if frequency not in LOOKBACK:
        raise ValueError(f"unknown frequency {frequency}")
    years = settings.history_years()
    return max(LOOKBACK[frequency], PER_YEAR[frequency] * years) if years else LOOKBACK[frequency]


def week_ending(day: date) -> date:
    """The Sunday that ends the week containing `day` (weeks run Monday to Sunday)."""
    return day + timedelta(days=6 - day.weekday())


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _previous_month_end(day: date) -> date:
    return day.replace(day=1) - timedelta(days=1)


def expected_periods(frequency: str, as_at: date, count: int | None = None) -> list[date]:
    """Period end dates on or before `as_at`, oldest first. Only complete periods are expected."""
    count = count or lookback(frequency)
    if frequency == "snapshot":
        return [as_at]
    if frequency == "weekly":
        last = week_ending(as_at) if week_ending(as_at) == as_at else week_ending(as_at) - timedelta(days=7)
        return [last - timedelta(weeks=i) for i in reversed(range(count))]
    if frequency in {"monthly", "quarterly"}:
        ends: list[date] = []
        day = as_at if month_end(as_at) == as_at else _previous_month_end(as_at)
        while len(ends) < count:
            if frequency == "monthly" or day.month % 3 == 0:
                ends.append(day)
            day = _previous_month_end(day)
        return list(reversed(ends))
    raise ValueError(f"unknown frequency {frequency}")
