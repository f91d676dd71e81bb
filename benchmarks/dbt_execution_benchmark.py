# Over 450 lines: one self-contained script (three execution modes, child runs, digests, report), read as one method.
"""How to run the dbt project: Cosmos per-node tasks (the baseline), Cosmos watcher mode (the project's DAG
since this comparison), and plain `dbt build`, on the same warehouse, in one run.

    .venv/bin/python benchmarks/dbt_execution_benchmark.py [--rounds 5] [--size small|national] [--modes A,B,C]
    .venv/bin/python benchmarks/dbt_execution_benchmark.py --probe-unwired 240   # see "dag.test and watcher"
    .venv/bin/python benchmarks/dbt_execution_benchmark.py --table              # the last results as Markdown

One warehouse database of its own (`pe_bench_dbt_execution`) is loaded once the way `make demo` loads it: the
bootstrap, the simulated providers' file drops and APIs, and the seven ingest DAGs through
`probation_evidence.local.dag_runner`. Then the same dbt project is built on the same raw data by each mode:

A. the baseline: the project's `transform_warehouse` DAG file with `ExecutionMode.LOCAL` instead of
   `ExecutionMode.WATCHER` and without the producer-first edge (one task per seed and model, each its own
   dbt process; one `dbt test` task after all), generated into a dags folder of its own with its own
   Airflow metadata database, run as `make demo` runs a DAG: `python -m probation_evidence.local.dag_runner <date>
   <dag>`, i.e. `DAG.test()`, in a process of its own;
B. the project's DAG as it is, `ExecutionMode.WATCHER` (a producer task runs one `dbt build` of the seeds
   and models; every seed and model keeps a task, a sensor reading the producer's per-node results; the
   same `dbt test` task after all), run the same way;
C. plain `dbt build --select path:seeds path:models` (seeds, models, their data and unit tests), no Airflow,
   same profile (transformer role, 4 threads).

Every Airflow run is a full build: the record of the last passed build is cleared before it (a transform
run otherwise builds only what changed data reaches, build_plan.py). Modes alternate (A B C A B C ...)
after one untimed warm-up round; every figure is the wall time of the
mode's process (for A and B: start the process, import Airflow, parse the DAG, start the in-process
execution API, run every task, exit), with, for A and B, the span from the first task's start to the last
task's end read from Airflow's metadata. Each run gets its own logical date (so each is a fresh DAG run with
try number 1: a watcher producer on try 2+ skips by design). After every run the marts are digested (row
count and md5 of every `marts` table) and must equal the first run's; A and B also write their OpenLineage
events to a file per run, checked for per-model lineage (each model's `<model>_run` job reporting the
relation it built, as tests/e2e/test_lineage.py asserts). The 1-minute load average is recorded before
every run: other jobs may share the machine.

dag.test and watcher: `DAG.test()` runs ready tasks one at a time in one process. In a `DbtTaskGroup` the
watcher sensors of the root seeds and models do not depend on the producer, so `DAG.test()` may start a
sensor first, which then waits (deferred, its trigger run inline) for a producer that cannot start until
the sensor ends. The project's DAG therefore makes the producer upstream of the root sensors
(`sensors_after_producer`). `--probe-unwired SECONDS` runs B once without that edge, with a time limit,
and records what happened.

Honours `WAREHOUSE_URL`; otherwise the project's embedded PostgreSQL is started. State folders, Airflow
homes, dbt target folders and logs go to a temporary folder, never the project's. Results go to
`benchmarks/results/dbt_execution.json`. The exit status never depends on speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from probation_evidence import settings, warehouse  # noqa: E402
from probation_evidence.local import airflow_env, dag_runner, dbt_runner, demo, embedded  # noqa: E402
from probation_evidence.sources import lineage  # noqa: E402

BENCH_DB = "pe_bench_dbt_execution"
RESULTS = ROOT / "benchmarks" / "results" / "dbt_execution.json"
BASE_DAG = "transform_warehouse"
#: The line of the project's DAG that makes the watcher's producer upstream of the root sensors.
WIRING = "    sensors_after_producer(dbt_build)\n"
UNWIRED_DAG = f"{BASE_DAG}_unwired"
#: The line that plans a selective build through the watcher's producer (mode A has no producer).
PLANNING = "    plan_before_build(dbt_build)\n"
GROUP = "dbt_build"
SELECTION = ["path:seeds", "path:models"]
RUN_TIMEOUT_S = 1800
RESULT_MARK = "DBT_EXECUTION_BENCH_RESULT "

#: What each mode is, and what it gives an operator (from Cosmos 1.15.1's code and documentation; the
#: lineage column is measured in each run).
MODES = {
    "A": {
        "name": "Cosmos per-node tasks (ExecutionMode.LOCAL, the baseline)",
        "dag_id": "transform_warehouse_per_node",
        "substitutions": [
            ("execution_mode=ExecutionMode.WATCHER", "execution_mode=ExecutionMode.LOCAL"),
            (WIRING, ""),
            (PLANNING, ""),
        ],
        "per_model_visibility": "yes: one task per seed and model, green or red as each finishes",
        "retries_per_model": "yes: each task's retry re-runs `dbt run/seed --select <node>` (retries=2)",
    },
    "B": {
        "name": "Cosmos watcher (ExecutionMode.WATCHER, one dbt build + per-node sensors), tests after all",
        "dag_id": BASE_DAG,
        "per_model_visibility": (
            "yes: one sensor task per seed and model, resolved as the producer's dbt build reports each node"
            " (under the real scheduler, deferred to the triggerer, polling every 10 s by default)"
        ),
        "retries_per_model": (
            "yes, with a difference: the producer never re-runs (on try 2+ it restores its XCom and skips);"
            " a failed node's sensor fails, and its retry runs `dbt run --select <node>` itself (LOCAL fallback)"
        ),
    },
    "C": {
        "name": "plain `dbt build` (no Airflow)",
        "dag_id": None,
        "per_model_visibility": "no: one process; dbt's log and run_results.json only",
        "retries_per_model": "no: a retry re-runs the whole build (or `dbt retry` by hand)",
    },
}


# In the child process: one DAG run, timed ---------------------------------------------------------------


def run_dag_child(dag_id: str, logical_date: str, report: Path) -> int:
    """Run one DAG exactly as `probation_evidence.local.dag_runner` does, then report the task timings."""
    started = time.perf_counter()
    code = dag_runner.main([logical_date, dag_id])
    outcome = {"exit_code": code, "dag_runner_s": round(time.perf_counter() - started, 3)}
    try:
        outcome.update(task_timings(dag_id, logical_date))
    except Exception as error:  # noqa: BLE001 - timings are a courtesy; the run's outcome is what counts
        outcome["task_timings_error"] = repr(error)[:300]
    report.write_text(json.dumps(outcome))
    return code


def task_timings(dag_id: str, logical_date: str) -> dict:
    # In the child only: Airflow reads AIRFLOW_HOME when imported, and the child's points at this run's folder.
    import pendulum
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    when = pendulum.parse(logical_date, tz="UTC")
    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.logical_date == when).one()
        tis = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
        rows = [(ti.task_id, ti.state, ti.start_date, ti.end_date, ti.duration, ti.try_number) for ti in tis]
    started = [r[2] for r in rows if r[2]]
    ended = [r[3] for r in rows if r[3]]
    by_kind: dict[str, list[float]] = {}
    for task_id, _, _, _, duration, _ in rows:
        kind = task_kind(task_id)
        by_kind.setdefault(kind, []).append(duration or 0.0)
    return {
        "tasks": len(rows),
        "states": sorted({str(r[1]) for r in rows}),
        "max_try_number": max((r[5] or 0) for r in rows) if rows else None,
        "task_span_s": round((max(ended) - min(started)).total_seconds(), 3) if started and ended else None,
        "task_seconds_by_kind": {
            kind: {"count": len(v), "sum": round(sum(v), 2), "median": round(statistics.median(v), 3)}
            for kind, v in sorted(by_kind.items())
        },
    }


def task_kind(task_id: str) -> str:
    if task_id.endswith("dbt_producer_watcher"):
        return "producer"
    if task_id.startswith(f"{GROUP}.") and task_id.endswith(("_run", "_seed")):
        return "node"
    if task_id.startswith(f"{GROUP}.") and task_id.endswith("_test"):
        return "test"
    return "other"


# In the parent: preparation ------------------------------------------------------------------------------


def point_state(root: Path) -> None:
    os.environ.update(settings.state_folders(root))


def prepare_warehouse(server: warehouse.WarehouseUrl, root: Path, size: str) -> tuple[warehouse.WarehouseUrl, dict]:
    """A fresh database loaded as `make demo` loads it (bootstrap, drops, the ingest DAGs); its URL and the
    Airflow environment of mode A."""
    url = warehouse.fresh_database(server, BENCH_DB)
    started = time.monotonic()
    warehouse.bootstrap(url)
    sized = {} if size == "small" else {"size": size}
    demo.drop_provider_files(settings.DEMO_AS_AT, settings.DEMO_SEED, **sized)
    with demo.simulator(settings.DEMO_SEED, **sized) as api:
        env = airflow_env.environment(url, api)
        demo.ensure_dbt_manifest(env)
        airflow_env.migrate(env)
        runner = [sys.executable, "-m", "probation_evidence.local.dag_runner", settings.DEMO_AS_AT.isoformat()]
        log = root / "logs" / "ingest.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:
            done = subprocess.run([*runner, *demo.INGEST_DAGS], env=env, stdout=out, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise RuntimeError(f"the ingest DAGs failed; their log: {log}")
    print(f"    warehouse loaded in {time.monotonic() - started:.0f} s", flush=True)
    # The transform runs need no provider API: the environment without its connections.
    return url, airflow_env.environment(url)


def variant_environment(base_env: dict[str, str], mode: str, root: Path, wired: bool = True) -> dict[str, str]:
    """A dags folder holding only a generated variant of the transform DAG (mode A; or B without the
    producer-first edge), and an Airflow home (metadata database) of its own, so the project's DAG and the
    variant never share a DAG bundle."""
    substitutions = MODES[mode].get("substitutions", []) if wired else [(WIRING, "")]
    dag_id = MODES[mode]["dag_id"] if wired else UNWIRED_DAG
    source = (ROOT / "dags" / f"{BASE_DAG}.py").read_text()
    for old, new in [*substitutions, ("@dag(\n", f'@dag(\n    dag_id="{dag_id}",\n')]:
        if source.count(old) != 1:
            raise RuntimeError(f"dags/{BASE_DAG}.py changed: {old!r} is not there exactly once")
        source = source.replace(old, new)
    name = f"{mode}{'' if wired else '-unwired'}"
    dags, home = root / f"dags-{name}", root / f"airflow-{name}"
    dags.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    (dags / f"{dag_id}.py").write_text(source)
    env = dict(base_env)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        }
    )
    airflow_env.migrate(env)
    return env


# In the parent: one run of a mode ------------------------------------------------------------------------


def run_airflow_mode(
    mode: str, env: dict[str, str], logical_date: str, root: Path, tag: str, timeout: float, dag_id: str = ""
) -> dict:
    """One DAG run of a mode in a process of its own; `dag_id` names a variant other than the mode's own."""
    dag_id = dag_id or MODES[mode]["dag_id"]
    report = root / "reports" / f"{tag}.json"
    events = root / "lineage" / f"{tag}.jsonl"
    log = root / "logs" / f"{tag}.log"
    for folder in (report.parent, events.parent, log.parent):
        folder.mkdir(parents=True, exist_ok=True)
    transport = {"type": "file", "log_file_path": str(events), "append": True}
    env = dict(env, AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(transport))
    script = str(Path(__file__).resolve())
    argv = [sys.executable, script, "--child-dag", dag_id, logical_date, str(report)]
    started = time.perf_counter()
    timed_out = False
    with log.open("w") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(process.pid, signal.SIGTERM)  # this run's own process group, started just above
            try:
                code = process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                code = process.wait()
    seconds = time.perf_counter() - started
    outcome = json.loads(report.read_text()) if report.exists() else {}
    outcome.update({"seconds": round(seconds, 3), "exit_code": code, "timed_out": timed_out, "log": str(log)})
    outcome["lineage"] = lineage_check(events, dag_id, env)
    return outcome


def forget_last_build(url: warehouse.WarehouseUrl) -> None:
    """Clear the record of what the last passed build was built from: the next transform run builds every
    seed and model (build_plan.py), as a run with nothing new would otherwise build none."""
    with psycopg.connect(url.url()) as conn:
        conn.execute("update audit.marts_state set built_from = null")


def run_plain_dbt(url: warehouse.WarehouseUrl, root: Path, tag: str, timeout: float) -> dict:
    project = settings.dbt_project_dir()
    env = dbt_runner.dbt_environment(url)
    env.update({"DBT_TARGET_PATH": str(root / "dbt-target"), "DBT_LOG_PATH": str(root / "dbt-logs")})
    dbt = Path(sys.executable).with_name("dbt")
    argv = [str(dbt), "build", "--select", *SELECTION, "--project-dir", str(project), "--profiles-dir", str(project)]
    log = root / "logs" / f"{tag}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    seconds = time.perf_counter() - started
    outcome = {"seconds": round(seconds, 3), "exit_code": done.returncode, "log": str(log)}
    try:
        results = json.loads((root / "dbt-target" / "run_results.json").read_text())
        outcome["dbt_elapsed_s"] = round(results["elapsed_time"], 3)
        outcome["nodes"] = len(results["results"])
        outcome["node_statuses"] = sorted({r["status"] for r in results["results"]})
    except (OSError, ValueError, KeyError) as error:
        outcome["run_results_error"] = repr(error)[:200]
    return outcome


def lineage_check(events: Path, dag_id: str, env: dict[str, str]) -> dict:
    """Does every model's `<model>_run` task report, in its COMPLETE event, the relation it built and what it
    read? And are the raw tables the DAG's jobs read named as the ingest loads name them (physical tables)?"""
    if not events.exists():
        return {"events": 0, "models_with_own_output": 0, "models": None}
    manifest = json.loads((settings.dbt_project_dir() / "target" / "manifest.json").read_text())
    models = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "probation_evidence"
    ]
    namespace = lineage.warehouse_namespace(env["WAREHOUSE_HOST"], int(env["WAREHOUSE_PORT"]))
    database = env["WAREHOUSE_DB"]
    outputs: dict[str, set] = {}
    inputs: dict[str, set] = {}
    lines = [json.loads(line) for line in events.read_text().splitlines() if line.strip()]
    for event in lines:
        if event.get("eventType") == "COMPLETE":
            job = event["job"]["name"]
            outputs.setdefault(job, set()).update((d["namespace"], d["name"]) for d in event.get("outputs", []))
            inputs.setdefault(job, set()).update((d["namespace"], d["name"]) for d in event.get("inputs", []))
    ok, with_inputs, with_events = 0, 0, 0
    for model in models:
        job = f"{dag_id}.{GROUP}.{model['name']}_run"
        expected = {(namespace, f"{database}.{model['schema']}.{model.get('alias') or model['name']}")}
        with_events += job in outputs
        ok += outputs.get(job) == expected
        with_inputs += bool(inputs.get(job))
    producer = f"{dag_id}.{GROUP}.dbt_producer_watcher"
    raw_read = {d[1].split(".")[-1] for job, ds in inputs.items() for d in ds if f"{database}.raw." in d[1]}
    physical = raw_tables(env)
    return {
        "raw_inputs": len(raw_read),
        "raw_inputs_named_as_physical_tables": len(raw_read & physical),
        "events": len(lines),
        "models": len(models),
        "models_with_complete_event": with_events,
        "models_with_own_output": ok,
        "models_with_inputs": with_inputs,
        "producer_outputs": len(outputs.get(producer, ())) if producer in outputs else None,
        "producer_inputs": len(inputs.get(producer, ())) if producer in inputs else None,
    }


def raw_tables(env: dict[str, str]) -> set[str]:
    url = warehouse.WarehouseUrl(
        env["WAREHOUSE_HOST"], int(env["WAREHOUSE_PORT"]), env["WAREHOUSE_USER"], env["WAREHOUSE_PASSWORD"],
        env["WAREHOUSE_DB"],
    )  # fmt: skip
    with psycopg.connect(url.url()) as conn:
        rows = conn.execute("select table_name from information_schema.tables where table_schema = 'raw'")
        return {name for (name,) in rows.fetchall()}


def marts_digest(url: warehouse.WarehouseUrl) -> dict:
    """Row count and md5 of every table and view in `marts` (rows in a stable order)."""
    digest = {}
    with psycopg.connect(url.url()) as conn:
        names = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        for (name,) in names:
            count, md5 = warehouse.table_digest(conn, "marts", name)
            digest[name] = {"rows": count, "md5": md5}
    return digest


# Summaries ----------------------------------------------------------------------------------------------


def summarise(values: list[float]) -> dict:
    if not values:
        return {"median_s": None, "spread_max_over_min": None}
    return {
        "median_s": round(statistics.median(values), 2),
        "min_s": round(min(values), 2),
        "max_s": round(max(values), 2),
        "spread_max_over_min": round(max(values) / min(values), 2),
    }


def summary(runs: list[dict], modes: list[str]) -> dict:
    out: dict[str, dict] = {}
    for mode in modes:
        timed = [r for r in runs if r["mode"] == mode and r["round"] > 0 and r["ok"]]
        seconds = [r["seconds"] for r in timed]
        spans = [r["task_span_s"] for r in timed if r.get("task_span_s")]
        entry = {
            "name": MODES[mode]["name"],
            "seconds": seconds,
            **summarise(seconds),
            "task_span_s": spans,
            "median_task_span_s": round(statistics.median(spans), 2) if spans else None,
            "failed_runs": sum(1 for r in runs if r["mode"] == mode and not r["ok"]),
            "per_model_visibility": MODES[mode]["per_model_visibility"],
            "retries_per_model": MODES[mode]["retries_per_model"],
        }
        if timed and "tasks" in timed[0]:
            entry["tasks_per_run"] = timed[0]["tasks"]
            entry["task_seconds_by_kind"] = timed[-1].get("task_seconds_by_kind")
        if timed and "lineage" in timed[0]:
            entry["lineage"] = timed[-1]["lineage"]
        out[mode] = entry
    base = out.get("A", {}).get("median_s")
    base_span = out.get("A", {}).get("median_task_span_s")
    for mode, entry in out.items():
        entry["ratio_to_A"] = round(entry["median_s"] / base, 2) if base and entry["median_s"] else None
        span = entry.get("median_task_span_s")
        entry["task_span_ratio_to_A"] = round(span / base_span, 2) if base_span and span else None
        pairs = []
        for r in runs:
            if r["mode"] == mode and r["round"] > 0 and r["ok"]:
                a = [x for x in runs if x["mode"] == "A" and x["round"] == r["round"] and x["ok"]]
                if a:
                    pairs.append(round(r["seconds"] / a[0]["seconds"], 2))
        entry["ratio_to_A_by_round"] = pairs
    return out


def table(document: dict) -> str:
    rows = [
        "| mode | median s | every run (s) | spread max/min | ratio to A | first to last task (s) | tasks |"
        " per-model visibility | per-model retries | per-model lineage |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for mode, m in document["modes"].items():
        if not m["seconds"]:
            rows.append(f"| {mode}: {m['name']} | no timed run | | | | | | | | |")
            continue
        runs = ", ".join(f"{v:.0f}" for v in m["seconds"])
        span = f"{m['median_task_span_s']:.0f}" if m.get("median_task_span_s") else "–"
        lin = m.get("lineage")
        lineage_text = "none"
        if lin and lin.get("models"):
            n = lin["models"]
            lineage_text = f"outputs {lin['models_with_own_output']}/{n}, inputs {lin['models_with_inputs']}/{n}"
        rows.append(
            f"| {mode}: {m['name']} | {m['median_s']:.1f} | {runs} | {m['spread_max_over_min']:.2f} |"
            f" {m['ratio_to_A']:.2f} | {span} | {m.get('tasks_per_run', '–')} |"
            f" {m['per_model_visibility'].split(':')[0]} | {m['retries_per_model'].split(':')[0].split(',')[0]} |"
            f" {lineage_text} |"
        )
    load = document["load_average_1min"]
    return "\n".join(rows) + (
        f"\n\nMarts equal in every run: **{document['marts_check']['equal_in_every_run']}**"
        f" (fct_indicator_values: {document['marts_check']['fct_indicator_values']}). 1-minute load average before"
        f" the runs: {load['min']}-{load['max']} (median {load['median']}) on {document['machine']['cpus']} CPUs."
        f" Rounds: {document['rounds']} after one warm-up. Measured {document['date']}."
    )


# Main ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child-dag":
        return run_dag_child(argv[1], argv[2], Path(argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (A B C each), after one warm-up")
    parser.add_argument("--modes", default="A,B,C", help="modes to run, in this order each round")
    parser.add_argument("--size", default="small", choices=["small", "national"], help="the simulator's size")
    parser.add_argument("--probe-unwired", type=float, metavar="SECONDS", help="also run B once without the edge")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database and the temp folder")
    parser.add_argument("--table", action="store_true", help="print the last results as a Markdown table")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.output.read_text())))
        return 0
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if "A" not in modes or any(m not in MODES for m in modes):
        parser.error(f"--modes must include A (the baseline) and name only {', '.join(MODES)}")

    server = embedded.resolve(start=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dbt-execution-"))
    print(f"warehouse: {server.masked} (database {BENCH_DB}); temp folder {tmp}", flush=True)
    point_state(tmp)
    prepare_started = time.monotonic()
    url, project_env = prepare_warehouse(server, tmp, args.size)
    envs = {mode: variant_environment(project_env, mode, tmp) if MODES[mode].get("substitutions") else project_env
            for mode in modes if MODES[mode]["dag_id"]}  # fmt: skip
    prepare_s = time.monotonic() - prepare_started

    probe = None
    if args.probe_unwired:
        print(f"==> probe: B without the producer-first edge, limit {args.probe_unwired:.0f} s", flush=True)
        unwired = variant_environment(project_env, "B", tmp, wired=False)
        probe = run_airflow_mode(
            "B", unwired, "2026-09-29T23:00:00", tmp, "probe-unwired", args.probe_unwired, dag_id=UNWIRED_DAG
        )
        text = Path(probe["log"]).read_text(errors="replace").splitlines()
        telling = ("[DAG TEST] starting", "Deferring", "running trigger in line")
        probe["first_lines"] = [line[:400] for line in text if any(t in line for t in telling)][:6]
        probe["xcom_not_found_polls"] = sum("XCom not found" in line for line in text)
        print(f"    probe: exit {probe['exit_code']}, timed out {probe['timed_out']}, {probe['seconds']:.0f} s")

    runs: list[dict] = []
    first_digest = None
    run_number = 0
    base_date = datetime.combine(settings.DEMO_AS_AT, datetime.min.time())
    for rnd in range(0, args.rounds + 1):  # round 0 is the warm-up
        for mode in modes:
            run_number += 1
            tag = f"{mode}-{rnd}"
            load1 = round(os.getloadavg()[0], 2)
            logical_date = (base_date + timedelta(minutes=run_number)).isoformat()
            print(f"==> round {rnd}{' (warm-up)' if rnd == 0 else ''}: {mode}, load {load1}", flush=True)
            try:
                if mode == "C":
                    outcome = run_plain_dbt(url, tmp, tag, RUN_TIMEOUT_S)
                else:
                    forget_last_build(url)  # every run here is a full build, as the comparison needs
                    outcome = run_airflow_mode(mode, envs[mode], logical_date, tmp, tag, RUN_TIMEOUT_S)
                digest = marts_digest(url)
            except Exception as error:  # noqa: BLE001 - a failed run is recorded; the others still count
                outcome, digest = {"seconds": None, "error": repr(error)[:500]}, {}
            first_digest = first_digest or (digest if outcome.get("exit_code") == 0 else None)
            ok = outcome.get("exit_code") == 0 and not outcome.get("timed_out") and bool(digest)
            run = {"mode": mode, "round": rnd, "load1_before": load1, "logical_date": logical_date, **outcome}
            run.update({"ok": ok, "marts_equal_first_run": digest == first_digest, "marts_digest": digest})
            runs.append(run)
            span = outcome.get("task_span_s")
            print(
                f"    {mode}: {outcome.get('seconds')} s (tasks' span {span}), exit {outcome.get('exit_code')},"
                f" marts equal {run['marts_equal_first_run']}, lineage {outcome.get('lineage', {})}",
                flush=True,
            )

    fct = (first_digest or {}).get("fct_indicator_values")
    loads = [r["load1_before"] for r in runs if r["round"] > 0]
    document = {
        "benchmark": "dbt_execution",
        "description": "the dbt project built three ways on one warehouse, alternating: Cosmos per-node tasks (A,"
        " baseline), Cosmos watcher mode (B), plain dbt build (C)",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "WAREHOUSE_URL=... .venv/bin/python benchmarks/dbt_execution_benchmark.py " + " ".join(argv),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "server": server.masked,
            "postgres": server_version(url),
        },
        "versions": package_versions(),
        "size": args.size,
        "rounds": args.rounds,
        "order": " ".join(modes) + " each round, after one untimed warm-up round",
        "what_is_timed": "wall time of each mode's process: for A and B `DAG.test()` of the DAG in a fresh process"
        " (Airflow import, DAG parse, in-process execution API, every task, exit), as dag_runner runs it;"
        " for C the `dbt build` process. task_span_s: first task start to last task end (Airflow metadata).",
        "warehouse": {
            "database": BENCH_DB,
            "prepare_s": round(prepare_s, 1),
            "how": "bootstrap, simulator drops and APIs, the seven ingest DAGs through dag_runner, once",
        },
        "dag_test_ordering": "B, the project's DAG, makes the producer upstream of the root sensors (see docstring)",
        "load_average_1min": {
            "min": min(loads) if loads else None,
            "median": round(statistics.median(loads), 2) if loads else None,
            "max": max(loads) if loads else None,
        },
        "modes": summary(runs, modes),
        "marts_check": {
            "equal_in_every_run": all(r["marts_equal_first_run"] for r in runs if r["ok"]),
            "runs_compared": sum(1 for r in runs if r["ok"]),
            "fct_indicator_values": fct,
            "tables": len(first_digest or {}),
        },
        "probe_unwired": probe,
        "runs": [{k: v for k, v in r.items() if k != "marts_digest"} for r in runs],
        "temp_folder": str(tmp) if args.keep else None,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(table(document))
    print(f"written: {args.output}")
    if not args.keep:
        warehouse.drop_database(server, BENCH_DB)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def server_version(url: warehouse.WarehouseUrl) -> str | None:
    try:
        with psycopg.connect(url.url()) as conn:
            return conn.execute("show server_version").fetchone()[0]
    except psycopg.Error:
        return None


def package_versions() -> dict[str, str]:
    found = {}
    packages = (
        "apache-airflow",
        "astronomer-cosmos",
        "dbt-core",
        "dbt-postgres",
        "apache-airflow-providers-openlineage",
    )
    for name in packages:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


if __name__ == "__main__":
    sys.exit(main())
