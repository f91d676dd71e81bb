"""The change since the previous inspection, judged as the planner query judges it (no database needed)."""

from __future__ import annotations

from datetime import date

import pytest

from probation_evidence.packs.comparators import _change

LATEST = date(2026, 9, 30)
BASELINE = date(2026, 6, 30)


def _line(value, polarity="down", lower=None, upper=None, period=LATEST) -> dict:
    return {"value": value, "polarity": polarity, "lower_95": lower, "upper_95": upper, "period_end_date": period}


@pytest.mark.parametrize(
    ("line", "baseline", "expected"),
    [
        # with an interval: only a baseline outside the latest 95% interval is a change
        (_line(0.12, "down", 0.10, 0.15), 0.05, "worsened"),  # a vacancy rate went up
        (_line(0.12, "up", 0.10, 0.15), 0.05, "improved"),  # a completion rate went up
        (_line(0.12, "down", 0.10, 0.15), 0.20, "improved"),
        (_line(0.12, "up", 0.10, 0.15), 0.20, "worsened"),
        (_line(0.12, "down", 0.10, 0.15), 0.11, "no significant change"),
        # without an interval: a move of more than 5% of the baseline
        (_line(106.0, "down"), 100.0, "worsened"),
        (_line(104.0, "down"), 100.0, "no significant change"),
        (_line(94.0, "down"), 100.0, "improved"),
        # nothing to compare
        (_line(0.12, "none", 0.10, 0.15), 0.05, "not comparable"),
        (_line(None, "down"), 0.05, "not comparable"),
        (_line(0.12, "down", 0.10, 0.15), None, "not comparable"),
        (_line(0.12, "down", 0.10, 0.15, period=BASELINE), 0.05, "not comparable"),
    ],
)
def test_change_since_the_previous_inspection(line, baseline, expected):
    assert _change(line, BASELINE, baseline) == expected
