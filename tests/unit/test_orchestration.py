"""The date a DAG run is for, whether or not it was triggered with a logical date."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pendulum
import pytest

from probation_evidence.orchestration import run_date


def test_a_scheduled_run_is_for_its_logical_date():
    logical = pendulum.datetime(2026, 9, 30, 6, tz="UTC")
    later = SimpleNamespace(run_after=pendulum.datetime(2026, 10, 2, tz="UTC"))
    assert run_date(logical, later) == date(2026, 9, 30)


def test_a_manual_run_without_a_logical_date_is_for_the_day_it_was_asked_to_run():
    manual = SimpleNamespace(run_after=pendulum.datetime(2026, 11, 26, 9, 15, tz="UTC"))
    assert run_date(None, manual) == date(2026, 11, 26)


def test_a_run_with_no_date_at_all_says_how_to_trigger_it():
    with pytest.raises(ValueError, match="trigger it with a logical date"):
        run_date(None, SimpleNamespace())
