"""A planner's approval of a new pack version under the real scheduler (LocalExecutor), answered through the
REST API as the Required Actions page answers it.

Runs after test_asset_chain.py in the same session (pytest runs this folder's modules in name order): that
module builds and tests the marts and publishes the packs due now. Here `publish_evidence_packs` is triggered
with `require_approval` and one inspection in `republish`, so exactly one new version ('requested') is
staged and waits in Airflow's `awaiting_input` state. Nothing is recorded while it waits; approving records
it and moves its files to the published folder. A second run, rejected, records nothing and removes its
staged files.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import quote

import psycopg
import pytest

from probation_evidence import settings

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.warehouse]

DAG_ID = "publish_evidence_packs"
ALL_DAGS = [*(f"ingest_{family}" for family in settings.FAMILIES), "transform_warehouse", DAG_ID]


def latest_versions(url) -> dict[str, tuple[str, int]]:
    with psycopg.connect(url.url()) as conn:
        rows = conn.execute(
            "select inspection_id, provider_id, max(pack_version) from audit.pack_publications group by 1, 2"
        ).fetchall()
    return {inspection_id: (provider_id, version) for inspection_id, provider_id, version in rows}


def approve_or_reject(airflow, inspection_id: str, option: str) -> dict:
    """Trigger a run staging a new version of `inspection_id`, wait for its approval request, answer it."""
    run_id = airflow.trigger(
        DAG_ID, datetime.now(UTC).isoformat(), conf={"require_approval": True, "republish": [inspection_id]}
    )

    def asked():
        found = airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/hitlDetails")
        # The detail row is written while the task is still running; it waits once Airflow has parked it.
        parked = [d for d in found["hitl_details"] if d["task_instance"]["state"] == "awaiting_input"]
        return parked or None

    (detail,) = airflow.wait_until(f"{run_id} to ask for approval", asked, [DAG_ID])
    assert not detail["response_received"]
    assert inspection_id in detail["subject"] and "requested" in detail["body"]
    before = latest_versions(airflow.warehouse_url)
    staged = sorted(p.name for p in (settings.pack_staging_dir() / inspection_id).iterdir())
    assert len(staged) == 3, staged
    ti = detail["task_instance"]
    # A person answers after the task has parked, not within the same scheduler loop. Answered at once,
    # Airflow 3.3.2's scheduler fails the resumed task: the LocalExecutor's "success" event of the parking
    # workload is processed after the scheduler has queued the resumed try (same try_number), and
    # process_executor_events only excuses that for a SCHEDULED task instance, not a QUEUED one.
    time.sleep(10)
    airflow.api(
        "PATCH",
        f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{ti['task_id']}/{ti['map_index']}"
        "/hitlDetails",
        json={"chosen_options": [option]},
    )

    def finished():
        run = airflow.run(DAG_ID, run_id)
        return run if run["state"] in {"success", "failed"} else None

    run = airflow.wait_until(f"{run_id} to finish after the answer", finished, [DAG_ID])
    assert run["state"] == "success", airflow.describe([DAG_ID])
    return {"before": before, "staged": staged, "run_id": run_id}


def marts_passed(url) -> bool:
    with psycopg.connect(url.url()) as conn:
        return conn.execute("select status from audit.marts_state").fetchone() == ("passed",)


def test_a_new_version_is_recorded_only_once_a_planner_approves_it(airflow_stack):
    airflow = airflow_stack
    # Quiet (a failed run of another test does not matter here) and the marts a tested build.
    airflow.wait_until(
        "no run active and the marts 'passed' (run tests/scheduler/test_asset_chain.py first, in the same session)",
        lambda: not airflow.active() and marts_passed(airflow.warehouse_url),
        ALL_DAGS,
    )
    if not latest_versions(airflow.warehouse_url):  # the chain's own publish run lost a race: publish now
        run_id = airflow.trigger(DAG_ID, datetime.now(UTC).isoformat())
        airflow.wait_until(
            f"{run_id} to finish", lambda: airflow.run(DAG_ID, run_id)["state"] in {"success", "failed"}, [DAG_ID]
        )
    published = latest_versions(airflow.warehouse_url)
    assert published, airflow.describe([DAG_ID])
    approved_id, rejected_id = sorted(published)[0], sorted(published)[-1]

    approved = approve_or_reject(airflow, approved_id, "Approve")
    provider_id, version = published[approved_id]
    assert approved["before"] == published, "nothing recorded while the approval waited"
    assert latest_versions(airflow.warehouse_url)[approved_id] == (provider_id, version + 1)
    packs = settings.packs_dir() / approved_id
    assert (packs / f"{provider_id}-evidence-pack-v{version + 1}.pdf").exists()
    assert not (settings.pack_staging_dir() / approved_id).exists()

    recorded = latest_versions(airflow.warehouse_url)
    rejected = approve_or_reject(airflow, rejected_id, "Reject")
    assert rejected["before"] == recorded
    assert latest_versions(airflow.warehouse_url) == recorded, "a rejected version records nothing"
    assert not (settings.pack_staging_dir() / rejected_id).exists()
    provider_id, version = recorded[rejected_id]
    assert not (settings.packs_dir() / rejected_id / f"{provider_id}-evidence-pack-v{version + 1}.html").exists()
