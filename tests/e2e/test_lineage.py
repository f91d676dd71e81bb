"""OpenLineage from real Airflow runs: the demo pipeline's events file holds one indicator's lineage from
the provider's API, through the landing zone and the raw table, to the staging and intermediate models and
`marts.fct_indicator_values`; every dbt model's task says what it read and built; and a lineage server that
fails or cannot be reached never fails a task (a one-task DAG run through Airflow with an HTTP transport).
"""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import sys
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from probation_evidence import settings
from probation_evidence.local import airflow_env
from probation_evidence.sources import lineage

pytestmark = [pytest.mark.warehouse, pytest.mark.airflow, pytest.mark.slow]

#: PO vacancy rate: from the staffing API's establishment and staff entities (indicator_catalogue).
INDICATOR = "S01"
DBT = "transform_warehouse.dbt_build"
#: The steps between the unioned counts and the indicator-values mart, in order.
STEPS = ("measured", "disclosure_checked", "compared", "trended")


def read_events(path: Path) -> list[dict]:
    assert path.is_file(), f"no OpenLineage events file at {path}: the pipeline ran without the file transport"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Lineage:
    """The events of a run, as jobs with their runs and, from their COMPLETE events, inputs and outputs."""

    def __init__(self, events: list[dict]):
        self.events = events
        self.inputs: dict[str, set] = defaultdict(set)
        self.outputs: dict[str, set] = defaultdict(set)
        self.types: dict[tuple[str, str], list[str]] = defaultdict(list)  # (job, runId) -> event types
        for event in events:
            job = event["job"]["name"]
            assert event["job"]["namespace"] == lineage.NAMESPACE, f"job {job} in namespace {event['job']['namespace']}"
            self.types[(job, event["run"]["runId"])].append(event["eventType"])
            if event["eventType"] == "COMPLETE":
                self.inputs[job] |= {(d["namespace"], d["name"]) for d in event.get("inputs", [])}
                self.outputs[job] |= {(d["namespace"], d["name"]) for d in event.get("outputs", [])}

    def runs(self, job: str) -> list[list[str]]:
        return [types for (name, _), types in self.types.items() if name == job]

    def producers(self, dataset) -> set[str]:
        return {job for job, outputs in self.outputs.items() if dataset in outputs}

    def hop(self, dataset, writer: str, reader: str) -> None:
        """`writer`'s COMPLETE event lists `dataset` as an output and `reader`'s as an input."""
        assert dataset in self.outputs[writer], (
            f"{writer} does not report {dataset} as an output: {self.outputs[writer]}"
        )
        assert dataset in self.inputs[reader], f"{reader} does not report {dataset} as an input: {self.inputs[reader]}"


@pytest.fixture(scope="module")
def run_lineage(pipeline_state) -> Lineage:
    path = pipeline_state / "state" / "openlineage" / "events.jsonl"
    assert lineage.events_path() == path, "the module's environment points at the pipeline's state folder"
    return Lineage(read_events(path))


@pytest.fixture(scope="module")
def place(warehouse_url) -> tuple[str, str]:
    return lineage.warehouse_namespace(warehouse_url.host, warehouse_url.port), warehouse_url.dbname


def test_one_indicators_lineage_runs_from_the_provider_api_to_the_mart(run_lineage, place, conn):
    entities = conn.execute(
        "select source_entities from staging.indicator_catalogue where indicator_id = %s", [INDICATOR]
    ).fetchone()
    assert entities is not None, f"{INDICATOR} is not in the indicator catalogue"
    assert "staffing.establishment" in entities[0].split(";")
    assert conn.execute(
        "select count(*) from marts.fct_indicator_values where indicator_id = %s", [INDICATOR]
    ).fetchone()[0], f"the pipeline built no {INDICATOR} values"

    namespace, database = place
    raw = (namespace, f"{database}.raw.staffing_establishment")
    staging = (namespace, f"{database}.staging.stg_staffing__establishment")
    intermediate = (namespace, f"{database}.intermediate.int_staffing_indicators_counted")
    mart = (namespace, f"{database}.marts.fct_indicator_values")
    landing = lineage.landing_dataset("staffing", "establishment")

    extract, load = "ingest_staffing.extract_provider", "ingest_staffing.load_provider"
    api_inputs = [d for d in run_lineage.inputs[extract] if d[1].endswith("/establishment")]
    assert api_inputs and all(d[0].startswith("http://") and d[1].startswith("/v1/providers/") for d in api_inputs)
    providers = {name.split("/")[3] for _, name in api_inputs}
    assert len(providers) == 12, f"one establishment endpoint per provider, found {sorted(api_inputs)}"
    run_lineage.hop(landing, extract, load)
    run_lineage.hop(raw, load, f"{DBT}.stg_staffing__establishment_run")
    run_lineage.hop(staging, f"{DBT}.stg_staffing__establishment_run", f"{DBT}.int_staffing_indicators_counted_run")
    run_lineage.hop(
        intermediate, f"{DBT}.int_staffing_indicators_counted_run", f"{DBT}.int_indicator_counts_unioned_run"
    )
    steps = ["int_indicator_counts_unioned", *(f"int_indicator_values_{s}" for s in STEPS), "fct_indicator_values"]
    for upstream, downstream in itertools.pairwise(steps):
        run_lineage.hop(
            (namespace, f"{database}.intermediate.{upstream}"), f"{DBT}.{upstream}_run", f"{DBT}.{downstream}_run"
        )
    assert mart in run_lineage.outputs[f"{DBT}.fct_indicator_values_run"]
    assert run_lineage.producers(raw) == {load}, "only the staffing load writes the raw table"

    chain = [extract, load, *(f"{DBT}.{m}_run" for m in (
        "stg_staffing__establishment", "int_staffing_indicators_counted", *steps))]  # fmt: skip
    for job in chain:
        runs = run_lineage.runs(job)
        assert runs, f"no events for {job}"
        # A task's run id is derived from its DAG, task, map index, try and logical date, so a rerun of the
        # pipeline for the same date (tests/e2e/test_pipeline.py makes one) adds another START, COMPLETE pair.
        assert all(types == ["START", "COMPLETE"] * (len(types) // 2) and types for types in runs), (
            f"{job}: events per run {runs}"
        )


def test_every_dbt_model_reports_the_relation_it_built(run_lineage, place):
    manifest = json.loads((settings.dbt_project_dir() / "target" / "manifest.json").read_text())
    namespace, database = place
    models = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "probation_evidence"
    ]
    assert models
    for model in models:
        job = f"{DBT}.{model['name']}_run"
        expected = (namespace, f"{database}.{model['schema']}.{model.get('alias') or model['name']}")
        assert run_lineage.outputs[job] == {expected}, f"{job} reports {run_lineage.outputs[job]}, not {expected}"


def test_every_raw_table_a_staging_model_reads_was_written_by_an_ingest_load(run_lineage, place):
    namespace, database = place
    raw_inputs = {d for job, inputs in run_lineage.inputs.items() if job.startswith(DBT) for d in inputs
                  if d[1].startswith(f"{database}.raw.")}  # fmt: skip
    assert len(raw_inputs) >= 20
    for dataset in sorted(raw_inputs):
        writers = run_lineage.producers(dataset)
        assert writers and all(w.startswith("ingest_") and w.endswith(".load_provider") for w in writers), (
            f"{dataset[1]} is read by dbt but no ingest load reports writing it (writers: {writers})"
        )


# A lineage server that fails ------------------------------------------------------------------------------

PROBE_DAG = '''
"""A one-task DAG that reports lineage, for tests/e2e/test_lineage.py."""
import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False, tags=["test"])
def lineage_probe():
    @task(retries=0)
    def report_probe() -> str:
        from probation_evidence.sources import lineage

        lineage.report(lambda: ([("file", "/probe/source")], [("postgres://probe:5432", "probe.raw.probe_table")]))
        return "reported"

    report_probe()


lineage_probe()
'''
API_KEY = "probe-api-key-never-in-logs-71c2"


class _Recorder(BaseHTTPRequestHandler):
    status = 200
    received: list[tuple[dict, dict]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((dict(self.headers), json.loads(body or b"{}")))
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args):
        pass


def _server(status: int):
    handler = type("Handler", (_Recorder,), {"status": status, "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def probe_home(tmp_path_factory, warehouse_url):
    """An Airflow home whose DAG folder holds only the probe DAG, migrated once."""
    root = tmp_path_factory.mktemp("lineage-probe")
    (root / "dags").mkdir()
    (root / "dags" / "lineage_probe.py").write_text(PROBE_DAG)
    with settings.environment(**settings.state_folders(root)):
        env = airflow_env.environment(warehouse_url)
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(root / "dags")
    airflow_env.migrate(env)
    return root, env


def _run_probe(probe_home, **variables: str) -> subprocess.CompletedProcess:
    root, env = probe_home
    with settings.environment(**settings.state_folders(root), **variables):
        env = {**env, **lineage.airflow_config()}
    argv = [sys.executable, "-m", "probation_evidence.local.dag_runner", "2026-09-30", "lineage_probe"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_events_reach_an_http_server_with_the_api_key_and_no_log_shows_it(probe_home):
    server, handler = _server(200)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        run = _run_probe(probe_home, OPENLINEAGE_URL=url, OPENLINEAGE_API_KEY=API_KEY)
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    task_events = [e for _, e in handler.received if e["job"]["name"] == "lineage_probe.report_probe"]
    assert [e["eventType"] for e in task_events] == ["START", "COMPLETE"]
    complete = task_events[1]
    assert [(d["namespace"], d["name"]) for d in complete["inputs"]] == [("file", "/probe/source")]
    assert [(d["namespace"], d["name"]) for d in complete["outputs"]] == [
        ("postgres://probe:5432", "probe.raw.probe_table")
    ]
    assert {headers.get("Authorization") for headers, _ in handler.received} == {f"Bearer {API_KEY}"}
    assert API_KEY not in run.stdout + run.stderr, "the run's output shows the lineage server's API key"


@pytest.mark.parametrize("server_status", [500, None], ids=["server-answers-500", "server-unreachable"])
def test_a_failing_or_unreachable_lineage_server_never_fails_a_task(probe_home, server_status):
    server = handler = None
    if server_status is None:
        url = f"http://127.0.0.1:{_closed_port()}"
    else:
        server, handler = _server(server_status)
        url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        run = _run_probe(probe_home, OPENLINEAGE_URL=url)
    finally:
        if server:
            server.shutdown()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    assert "==> lineage_probe succeeded" in output
    if handler is not None:
        assert handler.received, "the listener did try the lineage server"
