"""The publish DAG, run through Airflow's dag.test() on the built warehouse, publishes only from marts
whose dbt build and tests passed (audit.marts_state 'passed'), and says why when it refuses.

Each run writes its packs to a folder of the test's own; the module puts the marts state back as the
pipeline left it.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from probation_evidence import settings

pytestmark = [pytest.mark.warehouse, pytest.mark.airflow, pytest.mark.slow]


def run_publish_dag(warehouse_url, packs_dir) -> subprocess.CompletedProcess:
    """`publish_evidence_packs` for the demo's date, as the demo runs it (DAG.test() in one process)."""
    from probation_evidence.local import airflow_env

    env = airflow_env.environment(warehouse_url)
    env["PACKS_DIR"] = str(packs_dir)
    command = [sys.executable, "-m", "probation_evidence.local.dag_runner", settings.DEMO_AS_AT.isoformat()]
    return subprocess.run(
        [*command, "publish_evidence_packs"], env=env, capture_output=True, text=True, check=False, timeout=600
    )


@pytest.fixture
def marts_state(pipeline_state, warehouse_url):
    """Set the state for the test; the pipeline's own row is put back afterwards."""
    with psycopg.connect(warehouse_url.url()) as conn:
        saved = conn.execute("select status, detail from audit.marts_state").fetchall()

    def set_state(status: str) -> None:
        with psycopg.connect(warehouse_url.url()) as conn:
            conn.execute("update audit.marts_state set status = %s, detail = 'set by the test'", [status])

    yield set_state
    with psycopg.connect(warehouse_url.url()) as conn:
        conn.execute("delete from audit.marts_state")
        for row in saved:
            conn.execute("insert into audit.marts_state (status, detail) values (%s, %s)", list(row))


def publications(warehouse_url) -> list[tuple]:
    with psycopg.connect(warehouse_url.url()) as conn:
        return conn.execute("select * from audit.pack_publications order by publication_id").fetchall()


def test_the_publish_dag_refuses_while_the_marts_are_building_and_publishes_once_they_passed(
    pipeline_state, warehouse_url, marts_state, tmp_path
):
    recorded = publications(warehouse_url)
    assert recorded, "the pipeline published packs"

    marts_state("building")
    refused = run_publish_dag(warehouse_url, tmp_path / "refused")
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output[-3000:]
    assert "refusing to publish: the marts state is 'building'" in output
    assert "transform_warehouse" in output
    assert not list((tmp_path / "refused").rglob("*.*")), "no pack written"
    assert publications(warehouse_url) == recorded, "no pack recorded"

    marts_state("passed")
    published = run_publish_dag(warehouse_url, tmp_path / "published")
    assert published.returncode == 0, (published.stdout + published.stderr)[-3000:]
    written = sorted(p.relative_to(tmp_path / "published") for p in (tmp_path / "published").rglob("*.html"))
    due = {p.name for p in (pipeline_state / "packs").iterdir() if p.is_dir()}
    # The latest version of each due pack: other e2e modules may have republished, or changed data behind
    # a pack (a corrected return re-loaded), which rightly makes a new version here.
    latest: dict[str, tuple[str, int]] = {}
    with psycopg.connect(warehouse_url.url()) as conn:
        for inspection_id, provider_id, version in conn.execute(
            "select inspection_id, provider_id, max(pack_version) from audit.pack_publications group by 1, 2"
        ):
            latest[inspection_id] = (provider_id, version)
    expected = sorted(Path(i) / f"{latest[i][0]}-evidence-pack-v{latest[i][1]}.html" for i in due)
    assert written == expected and written
    assert set(recorded) <= set(publications(warehouse_url)), "a publication is never changed or removed"


@contextmanager
def queued_transform_run(warehouse_url):
    """A `transform_warehouse` run triggered as an engineer would (`airflow dags trigger`); with no scheduler
    here it stays queued, as a rebuild that is about to start. Its rows are removed afterwards."""
    from probation_evidence.local import airflow_env

    env = airflow_env.environment(warehouse_url)
    run_id = "test-publish-gate-rebuild"
    airflow = Path(sys.executable).with_name("airflow")
    trigger = [str(airflow), "dags", "trigger", "transform_warehouse", "--run-id", run_id]
    result = subprocess.run(trigger, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    try:
        yield run_id
    finally:
        with sqlite3.connect(airflow_env.airflow_home() / "airflow.db") as db:
            for table in ("task_instance", "dag_run"):
                db.execute(f"delete from {table} where dag_id = 'transform_warehouse' and run_id = ?", [run_id])


def latest_publish_task_states() -> dict[str, str]:
    """The task states of the latest publish_evidence_packs run in the metadata database (mapped: any index)."""
    from probation_evidence.local import airflow_env

    with sqlite3.connect(f"file:{airflow_env.airflow_home() / 'airflow.db'}?mode=ro", uri=True) as db:
        (run_id,) = db.execute(
            "select run_id from dag_run where dag_id = 'publish_evidence_packs' order by id desc limit 1"
        ).fetchone()
        rows = db.execute(
            "select task_id, state from task_instance where dag_id = 'publish_evidence_packs' and run_id = ?",
            [run_id],
        ).fetchall()
    return dict(rows)


def test_the_publish_dag_skips_without_an_alert_while_a_transform_run_is_rebuilding(
    pipeline_state, warehouse_url, marts_state, tmp_path
):
    """Under the scheduler, a publish run queued by one rebuild's Asset event can start just as the next
    rebuild sets 'building': that is no fault, so the run is skipped, not failed, and raises no alert."""
    recorded = publications(warehouse_url)
    marts_state("building")
    with queued_transform_run(warehouse_url):
        skipped = run_publish_dag(warehouse_url, tmp_path / "skipped")
    output = skipped.stdout + skipped.stderr
    assert skipped.returncode == 0, output[-3000:]
    assert "the marts are being rebuilt (1 transform_warehouse run(s) queued or running)" in output
    assert "ALERT" not in output, "a rebuild under way is not a fault"
    states = latest_publish_task_states()
    assert states["check_marts_tested"] == "skipped"
    assert states["find_due_inspections"] == "skipped", "nothing after the check ran"
    assert not list((tmp_path / "skipped").rglob("*.*")), "no pack written"
    assert publications(warehouse_url) == recorded, "no pack recorded"

    # With the rebuild gone (it died part way), 'building' is a fault again: refused, as above.
    refused = run_publish_dag(warehouse_url, tmp_path / "refused")
    assert refused.returncode == 1, (refused.stdout + refused.stderr)[-3000:]
    assert "refusing to publish: the marts state is 'building'" in refused.stdout + refused.stderr
