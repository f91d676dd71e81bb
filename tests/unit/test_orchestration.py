"""The date a DAG run is for, whether or not it was triggered with a logical date; when publish skips."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pendulum
import pytest
from airflow.sdk.exceptions import AirflowSkipException

from probation_evidence.orchestration.defaults import run_date, skip_while_rebuilding
from probation_evidence.packs.publish import MartsNotPublishable


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


class TransformRuns:
    """The one method of Airflow's RuntimeTaskInstance the rule reads: how many transform runs are active."""

    def __init__(self, active: int):
        self.active, self.asked = active, []

    def get_dr_count(self, dag_id: str, states: list[str]) -> int:
        self.asked.append((dag_id, sorted(states)))
        return self.active


def test_only_a_rebuild_under_way_turns_a_building_refusal_into_a_skip():
    building = MartsNotPublishable("refusing to publish: the marts state is 'building'", status="building")
    failed = MartsNotPublishable("refusing to publish: the marts state is 'failed'", status="failed")

    rebuilding = TransformRuns(active=1)
    with pytest.raises(AirflowSkipException, match=r"being rebuilt \(1 transform_warehouse run"):
        skip_while_rebuilding(building, rebuilding)
    assert rebuilding.asked == [("transform_warehouse", ["queued", "running"])]

    # 'building' with no rebuild active (one died part way) and 'failed' are faults: the caller re-raises.
    assert skip_while_rebuilding(building, TransformRuns(active=0)) is None
    quiet = TransformRuns(active=1)
    assert skip_while_rebuilding(failed, quiet) is None
    assert quiet.asked == [], "a failed build is refused whatever else is running"
