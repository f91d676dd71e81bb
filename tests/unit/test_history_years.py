"""How much history each run expects: the standard windows, or whole years when told (national, scale)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from probation_evidence import settings
from probation_evidence.reference import periods

AS_AT = date(2026, 9, 30)


def test_without_the_setting_each_frequency_keeps_its_standard_window(monkeypatch):
    monkeypatch.delenv(settings.HISTORY_YEARS_ENV, raising=False)
    assert {f: len(periods.expected_periods(f, AS_AT)) for f in periods.LOOKBACK} == periods.LOOKBACK


@pytest.mark.parametrize("years", [1, 2, 8])
def test_whole_years_of_history_cover_exactly_those_years_of_every_frequency(monkeypatch, years):
    monkeypatch.setenv(settings.HISTORY_YEARS_ENV, str(years))
    weeks = periods.expected_periods("weekly", AS_AT)
    quarters = periods.expected_periods("quarterly", AS_AT)
    assert len(weeks) == 52 * years and len(quarters) == 4 * years
    assert len(periods.expected_periods("monthly", AS_AT)) == 12 * years
    assert periods.expected_periods("snapshot", AS_AT) == [AS_AT]
    # Consecutive and ending at the last complete period: nothing skipped, nothing repeated.
    assert all(b - a == timedelta(weeks=1) for a, b in zip(weeks, weeks[1:], strict=False))
    assert weeks[-1] == date(2026, 9, 27) and quarters[-1] == date(2026, 9, 30)
    assert AS_AT - weeks[0] < timedelta(days=365 * years)


def test_an_explicit_count_still_wins(monkeypatch):
    monkeypatch.setenv(settings.HISTORY_YEARS_ENV, "4")
    assert periods.expected_periods("weekly", AS_AT, count=1) == [date(2026, 9, 27)]


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "a year"])
def test_a_setting_that_is_not_a_whole_number_of_years_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv(settings.HISTORY_YEARS_ENV, value)
    with pytest.raises(ValueError, match=settings.HISTORY_YEARS_ENV):
        periods.expected_periods("weekly", AS_AT)


def test_the_simulated_providers_and_the_ingest_agree_on_the_years_of_history(monkeypatch, tmp_path):
    """The national demo's year (and the scale benchmark's years): the providers drop a file for every period
    of the years asked for, and the ingest expects exactly those slices, so none is missing or unexpected."""
    from probation_evidence.simulator.drops import write_drops
    from probation_evidence.sources import ingest

    monkeypatch.setenv(settings.HISTORY_YEARS_ENV, "2")
    records = write_drops(tmp_path / "drops", seed=7, as_at=AS_AT, providers=["N07"])
    dropped = {(r.family, r.entity, date.fromisoformat(r.period)) for r in records}
    expected = {
        (family, contract.entity, period)
        for family in ("workload", "feedback", "services", "governance")
        for contract, period in ingest.expected_submissions(family, AS_AT)
    }
    assert dropped == expected
    weekly = sorted(period for family, _, period in dropped if family == "workload")
    assert len(weekly) == 104 and weekly[0] > AS_AT - timedelta(days=2 * 365)
