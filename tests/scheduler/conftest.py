"""One real Airflow stack (api-server, scheduler with LocalExecutor, dag-processor, triggerer) for the tests
in this folder that use `airflow_stack`, started as `make up` starts it, against a database of its own on
the session's server and with its state folders under tmp. (`test_publish_approval_steps.py` runs its own
api-server beside `DAG.test()`; it is here because, like the rest, it mostly waits on Airflow.)

The database is the suite's own (`<test db>_scheduler`, fresh each session) rather than the session's
`warehouse_url`: publishing writes only what changed, so packs published into a warehouse the e2e suite has
already published from would not appear in this suite's folders, and its runs would change what the e2e
modules read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from probation_evidence import settings, warehouse
from probation_evidence.local import airflow_env, stack
from tests.conftest import TEST_DB

FINISHED = {"success", "failed"}


class Airflow:
    """The running stack and the REST calls the tests make (a fresh JWT per client)."""

    def __init__(self, running: stack.Stack, state: Path, url: warehouse.WarehouseUrl):
        self.stack = running
        self.state = state
        self.warehouse_url = url

    def api(self, method: str, path: str, **kwargs) -> dict:
        with self.stack.client() as client:
            response = client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: HTTP {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else {}

    def trigger(self, dag_id: str, logical_date: str, conf: dict | None = None) -> str:
        body = {"logical_date": logical_date, "conf": conf or {}}
        return self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)["dag_run_id"]

    def runs(self, dag_id: str, **params) -> list[dict]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100, **params})["dag_runs"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def upstream_events(self, dag_id: str, run_id: str) -> list[dict]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/upstreamAssetEvents")["asset_events"]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        tis = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 200})
        return {
            ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""): ti["state"]
            for ti in tis["task_instances"]
        }

    def active(self) -> list[str]:
        """Runs queued or running, and asset events waiting to trigger a run: empty when the system is quiet."""
        busy = [
            f"{r['dag_id']}/{r['dag_run_id']} ({r['state']})"
            for r in self.api("GET", "/api/v2/dags/~/dagRuns", params={"state": ["queued", "running"], "limit": 100})[
                "dag_runs"
            ]
        ]
        for dag_id in ("transform_warehouse", "publish_evidence_packs"):
            queued = self.api("GET", f"/api/v2/dags/{dag_id}/assets/queuedEvents")["queued_events"]
            busy += [f"{dag_id} waits on {event['asset_id']}" for event in queued]
        return busy

    def describe(self, dag_ids: list[str]) -> str:
        """Every run of the DAGs with its task states, the failed tasks' log tails and the scheduler's: for a
        failure message."""
        lines = []
        for dag_id in dag_ids:
            for r in self.runs(dag_id):
                lines.append(f"{dag_id} {r['dag_run_id']} {r['run_type']} {r['state']}")
                states = self.task_states(dag_id, r["dag_run_id"])
                lines.append("    " + ", ".join(f"{task}={state}" for task, state in sorted(states.items())))
                for task, state in states.items():
                    if state in {"failed", "up_for_retry"}:
                        lines.append(self.log_tail(dag_id, r["dag_run_id"], task.split("[")[0]))
        lines.append("scheduler log tail:\n" + _tail(stack.log_file("scheduler"), 30))
        return "\n".join(lines)

    def log_tail(self, dag_id: str, run_id: str, task_id: str, lines: int = 30) -> str:
        folder = airflow_env.airflow_home() / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        logs = sorted(folder.rglob("*.log"), key=lambda p: p.stat().st_mtime)
        return f"    log of {task_id}:\n" + (_tail(logs[-1], lines) if logs else "    (no log file)")

    def wait_until(self, what: str, done: Callable[[], object], dag_ids: list[str], timeout_s: float = 1200) -> object:
        """Poll `done` until it returns something truthy; fail naming `what`, with every run's state."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = done()
            if result:
                return result
            time.sleep(1)
        pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}:\n{self.describe(dag_ids)}")

    def wait_quiet(self, dag_ids: list[str], timeout_s: float = 1200) -> None:
        """Wait until no run is queued or running and no asset event waits; fail if any run failed."""

        def quiet() -> bool:
            failed = [
                f"{dag_id}/{r['dag_run_id']}"
                for dag_id in dag_ids
                for r in self.runs(dag_id, state=["failed"])
                if not r["dag_run_id"].startswith(stack.HELD_PREFIX)  # the quiet start's placeholders
            ]
            if failed:
                pytest.fail(f"runs failed: {failed}\n{self.describe(dag_ids)}")
            return not self.active()

        # Twice, a moment apart: an ingest run that just finished has its asset event queued a tick later.
        self.wait_until("the scheduler to be quiet", quiet, dag_ids, timeout_s)
        time.sleep(3)
        self.wait_until("the scheduler to be quiet", quiet, dag_ids, timeout_s)

    def airflow_cli(self, *args: str) -> str:
        """An `airflow` command in the stack's environment (as `probation-evidence airflow -- ...` runs it)."""
        env = stack.environment(self.warehouse_url, self.stack.port)
        result = airflow_env.airflow(list(args), env, check=False, capture=True)
        output = result.stdout[-3000:] + result.stderr[-3000:]
        assert result.returncode == 0, f"airflow {' '.join(args)} failed:\n{output}"
        return result.stdout


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join("    " + line for line in path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"    ({error})"


def _create_raw_tables(url: warehouse.WarehouseUrl) -> None:
    """Every source's raw table, as the loader makes them on its first load: the first asset-triggered
    transform may run after one family has loaded, and dbt builds every source's staging model."""
    import psycopg

    from probation_evidence.sources import contracts

    with psycopg.connect(url.url()) as conn:
        conn.execute(f"set role {settings.LOADER_ROLE}")
        for contract in contracts.CONTRACTS.values():
            conn.execute(contracts.create_table_sql(contract))
            if contracts.create_index_sql(contract):
                conn.execute(contracts.create_index_sql(contract))


@pytest.fixture(scope="session")
def scheduler_warehouse(server_url) -> warehouse.WarehouseUrl:
    url = warehouse.fresh_database(server_url, f"{TEST_DB}_scheduler")
    warehouse.bootstrap(url)
    _create_raw_tables(url)
    return url


@pytest.fixture(scope="package")
def airflow_stack(tmp_path_factory, scheduler_warehouse):
    """The stack, up for every test of this folder; state folders (Airflow's home included) under tmp."""
    state = tmp_path_factory.mktemp("scheduler")
    with pytest.MonkeyPatch.context() as mp:
        for name, folder in settings.state_folders(state).items():
            mp.setenv(name, folder)
        running = stack.up(scheduler_warehouse, port=stack.free_port(), quiet=True, say=lambda _: None)
        try:
            yield Airflow(running, state, scheduler_warehouse)
        finally:
            stopped = stack.down(quiet=True)
        # What `make stop` promises: every service and the simulator stopped, none left behind.
        assert set(stopped) == {*stack.SERVICES, stack.SIMULATOR}, f"not running at the end: {stopped}"
        assert not any(stack.status().values()), stack.status()
