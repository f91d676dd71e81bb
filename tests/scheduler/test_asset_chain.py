"""The asset-driven chain under the real scheduler: ingest DAGs, triggered for the demo's as-at date, emit
their raw assets; the scheduler runs `transform_warehouse` on them (run type `asset_triggered`), whose
`marts` asset runs `publish_evidence_packs`; the packs land on disk and in audit.pack_publications.

Six families are ingested first with `transform_warehouse` paused (a paused DAG is not queued a run by an
asset event), then it is unpaused and the seventh family's run triggers it: one dbt rebuild rather than one
per batch of events that happen to arrive while a rebuild runs (each is minutes under the scheduler on two
cores). The run still consumes all seven events: those since the DAG's previous run.
The providers ingested are those with an inspection due now (the asset-triggered publish run is for the
day it runs), which keeps the runs small.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest

from probation_evidence import settings
from probation_evidence.local import stack
from tests.scheduler.conftest import FINISHED

#: Beyond the suite's 900 s default: a dbt rebuild under the scheduler is minutes on a busy two-core machine.
pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.warehouse, pytest.mark.timeout(2400)]

INGEST_DAGS = [f"ingest_{family}" for family in settings.FAMILIES]
ALL_DAGS = [*INGEST_DAGS, "transform_warehouse", "publish_evidence_packs"]


def due_now() -> list[dict]:
    """The inspections a publish run today packs: fieldwork starting within the lead window from today."""
    today = datetime.now(UTC).date()
    path = settings.project_root() / "plugins" / "probation_evidence" / "reference" / "inspection_programme.csv"
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    window_end = today + timedelta(days=settings.lead_days())
    due = [r for r in rows if today < datetime.fromisoformat(r["fieldwork_start_date"]).date() <= window_end]
    assert due, (
        f"no inspection in {path.name} starts fieldwork between {today} and {window_end}: the reference "
        "programme has run out and needs its next year's inspections"
    )
    return due


def asset_triggered(airflow, dag_id: str) -> list[dict]:
    return [r for r in airflow.runs(dag_id) if r["run_type"] == "asset_triggered"]


def test_ingest_runs_trigger_transform_then_publish(airflow_stack):
    airflow = airflow_stack
    due = due_now()
    providers = sorted({row["provider_id"] for row in due})
    logical_date = f"{settings.DEMO_AS_AT.isoformat()}T00:00:00Z"
    *first, last = INGEST_DAGS

    def finished(runs: dict[str, str]) -> bool:
        states = {dag_id: airflow.run(dag_id, run_id)["state"] for dag_id, run_id in runs.items()}
        failed = [dag_id for dag_id, state in states.items() if state == "failed"]
        if failed:
            pytest.fail(f"ingest runs failed: {failed}\n{airflow.describe(failed)}")
        return all(state in FINISHED for state in states.values())

    airflow.api("PATCH", "/api/v2/dags/transform_warehouse", json={"is_paused": True})
    try:
        first_runs = {dag_id: airflow.trigger(dag_id, logical_date, {"providers": providers}) for dag_id in first}
        airflow.wait_until("six ingest runs", lambda: finished(first_runs), first)
        assert not asset_triggered(airflow, "transform_warehouse"), "a paused DAG was run on its assets"
    finally:
        airflow.api("PATCH", "/api/v2/dags/transform_warehouse", json={"is_paused": False})
    last_run = airflow.trigger(last, logical_date, {"providers": providers})
    airflow.wait_until(f"the {last} run", lambda: finished({last: last_run}), [last])

    def chain_done() -> list[dict] | None:
        transforms = asset_triggered(airflow, "transform_warehouse")
        publishes = asset_triggered(airflow, "publish_evidence_packs")
        failed = [r["dag_run_id"] for r in transforms + publishes if r["state"] == "failed"]
        if failed:
            pytest.fail(f"asset-triggered runs failed: {failed}\n{airflow.describe(ALL_DAGS[-2:])}")
        busy = airflow.active()
        if transforms and any(r["state"] == "success" for r in publishes) and not busy:
            return transforms
        return None

    transforms = airflow.wait_until("transform and publish to run on the assets", chain_done, ALL_DAGS)

    # One transform run, triggered by the last ingest run; it consumed every raw asset event since the DAG's
    # previous run (none), each from the ingest runs this test triggered.
    assert len(transforms) == 1, [r["dag_run_id"] for r in transforms]
    run = transforms[0]
    assert run["state"] == "success", run
    events = airflow.upstream_events("transform_warehouse", run["dag_run_id"])
    assert sorted(event["name"] for event in events) == sorted(f"raw_{f}" for f in settings.FAMILIES), events
    ingest_runs = {**first_runs, last: last_run}
    for event in events:
        family = event["name"].removeprefix("raw_")
        assert event["uri"] == f"x-probation-evidence://warehouse/raw/{family}", event
        assert (event["source_dag_id"], event["source_run_id"]) == (f"ingest_{family}", ingest_runs[f"ingest_{family}"])
        assert event["source_task_id"] == "record_submissions", event

    # Publish ran on the marts asset, emitted by a transform run above.
    publishes = [r for r in asset_triggered(airflow, "publish_evidence_packs") if r["state"] == "success"]
    assert publishes
    transform_run_ids = {r["dag_run_id"] for r in transforms}
    for run in publishes:
        events = airflow.upstream_events("publish_evidence_packs", run["dag_run_id"])
        assert [e["name"] for e in events] and {e["name"] for e in events} == {"marts"}, events
        assert all(e["source_dag_id"] == "transform_warehouse" for e in events), events
        assert all(e["source_run_id"] in transform_run_ids for e in events), events
        assert all(e["source_task_id"] == "mark_marts_passed" for e in events), events

    # The packs: on disk under the stack's packs folder, and recorded as published.
    import psycopg

    with psycopg.connect(airflow.warehouse_url.url()) as conn:
        published = conn.execute(
            "select inspection_id, count(*) from audit.pack_publications group by inspection_id"
        ).fetchall()
    due_ids = {row["inspection_id"] for row in due}
    assert {inspection for inspection, _ in published} == due_ids, published
    for inspection in due_ids:
        files = sorted(p.suffix for p in (settings.packs_dir() / inspection).rglob("*") if p.is_file())
        for suffix in (".html", ".pdf", ".csv"):
            assert suffix in files, f"no {suffix} pack for {inspection} under {settings.packs_dir()}: {files}"
    assert stack.current() is not None, "the stack stopped during the test"
