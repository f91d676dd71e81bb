"""The whole pipeline under the real scheduler (`make up`) against the `make demo` path, in the same run.

    .venv/bin/python benchmarks/scheduler_benchmark.py [--runs 5] [--add] [--table]

A: `make demo`'s path, `demo.run_pipeline`: the eight DAGs one after another through `DAG.test()` in one
   process (`dag_runner`), timed from the start of the ingest DAGs to the end of publish (the bootstrap,
   file drops and `airflow db migrate` before them are timed apart, as `prepare_s`).
B: the stack (api-server, scheduler with LocalExecutor, dag-processor, triggerer) started quiet; timed from
   triggering the seven ingest DAGs (every provider, the demo's as-at date) until `publish_evidence_packs`
   has an asset-triggered run that succeeded and nothing is queued or running (`stack_start_s` apart).

A and B alternate (A B A B ...), each on a fresh database and fresh state folders; every run, the medians of
`--runs` pairs, their spread (max/min) and the ratio B/A go to `benchmarks/results/scheduler.json` (`--add`
appends new pairs to the runs already there and takes the medians of all). Note that B's
publish run is for the day it runs (an asset-triggered run has no logical date) while A's is for the as-at
date, so the two publish the packs due on different dates. A run that fails is reported in `failed_runs` with
the folder its state and logs are kept in, and the others still count. Honours `WAREHOUSE_URL`; otherwise the
project's embedded PostgreSQL is started. The exit status never depends on speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from probation_evidence import settings, warehouse  # noqa: E402
from probation_evidence.local import airflow_env, demo, embedded, stack  # noqa: E402

BENCH_DB = "probation_evidence_bench_scheduler"
RESULTS = ROOT / "benchmarks" / "results" / "scheduler.json"
INGEST_DAGS = [f"ingest_{family}" for family in settings.FAMILIES]
TIMEOUT_S = 3600


def _point_state(root: Path) -> None:
    for name, folder in settings.state_folders(root).items():
        os.environ[name] = folder


def run_demo(server: warehouse.WarehouseUrl, root: Path) -> dict:
    """`demo.run_pipeline`'s steps, the preparation timed apart from the DAG runs."""
    _point_state(root)
    url = warehouse.fresh_database(server, BENCH_DB)
    started = time.monotonic()
    warehouse.bootstrap(url)
    demo.drop_provider_files(settings.DEMO_AS_AT, settings.DEMO_SEED)
    with demo.simulator(settings.DEMO_SEED) as api:
        env = airflow_env.environment(url, api)
        demo.ensure_dbt_manifest(env)
        airflow_env.migrate(env)
        prepared = time.monotonic()
        as_at = settings.DEMO_AS_AT.isoformat()
        runner = [sys.executable, "-m", "probation_evidence.local.dag_runner", as_at, *demo.DAG_ORDER]
        if subprocess.run(runner, env=env, check=False).returncode != 0:
            raise RuntimeError("the demo pipeline failed: its output is above")
        ended = time.monotonic()
    return {"pipeline_s": ended - prepared, "prepare_s": prepared - started}


def _quiet(client) -> bool:
    busy = client.get("/api/v2/dags/~/dagRuns", params={"state": ["queued", "running"], "limit": 100}).json()
    queued = [
        client.get(f"/api/v2/dags/{dag_id}/assets/queuedEvents").json()["queued_events"]
        for dag_id in ("transform_warehouse", "publish_evidence_packs")
    ]
    return busy["total_entries"] == 0 and not any(queued)


def run_scheduler(server: warehouse.WarehouseUrl, root: Path) -> dict:
    _point_state(root)
    url = warehouse.fresh_database(server, BENCH_DB)
    started = time.monotonic()
    running = stack.up(url, port=stack.free_port(), quiet=True, say=lambda _: None)
    try:
        ready = time.monotonic()
        logical_date = f"{settings.DEMO_AS_AT.isoformat()}T00:00:00Z"
        with running.client() as client:
            for dag_id in INGEST_DAGS:
                body = {"logical_date": logical_date, "conf": {}}
                client.post(f"/api/v2/dags/{dag_id}/dagRuns", json=body).raise_for_status()
        triggered = time.monotonic()
        while time.monotonic() - triggered < TIMEOUT_S:
            with running.client() as client:
                runs = client.get("/api/v2/dags/~/dagRuns", params={"limit": 200}).json()["dag_runs"]
                failed = [f"{r['dag_id']}/{r['dag_run_id']}" for r in runs if r["state"] == "failed"]
                failed = [f for f in failed if stack.HELD_PREFIX not in f]
                if failed:
                    raise RuntimeError(f"runs failed under the scheduler: {failed}; logs in {stack.stack_dir()}")
                published = any(
                    r["dag_id"] == "publish_evidence_packs" and r["run_type"] == "asset_triggered"
                    for r in runs
                    if r["state"] == "success"
                )
                if published and _quiet(client):
                    break
            time.sleep(2)
        else:
            raise RuntimeError(f"the pipeline did not finish under the scheduler within {TIMEOUT_S}s")
        ended = time.monotonic()
        transforms = [r for r in runs if r["dag_id"] == "transform_warehouse" and r["run_type"] == "asset_triggered"]
    finally:
        stack.down(quiet=True)
    return {"pipeline_s": ended - triggered, "stack_start_s": ready - started, "transform_runs": len(transforms)}


def summarise(values: list[float]) -> dict:
    return {
        "median_s": round(statistics.median(values), 1),
        "runs_s": [round(v, 1) for v in values],
        "spread_max_over_min": round(max(values) / min(values), 2),
    }


def table(document: dict) -> str:
    """The results file as the Markdown table docs/operations.md shows."""
    demo, sched = document["demo"], document["scheduler"]
    paths = [
        (demo, "A: `make demo` (`DAG.test()`, one process)", f"{demo['prepare_s']:.0f} s (bootstrap, drops, migrate)"),
        (sched, f"B: the scheduler (`make up`, parallelism {sched['parallelism']})", f"{sched['stack_start_s']:.0f} s"),
    ]
    rows = [
        "| path | median, trigger to packs | every run (s) | spread (slowest/fastest) | set-up, timed apart |",
        "|---|---|---|---|---|",
    ]
    for result, name, setup in paths:
        runs = ", ".join(f"{v:.0f}" for v in result["runs_s"])
        rows.append(f"| {name} | {result['median_s']:.0f} s | {runs} | {result['spread_max_over_min']:.2f} | {setup} |")
    pairs = ", ".join(f"{r:.2f}" for r in document.get("scheduler_over_demo_by_pair", []))
    return "\n".join(rows) + (
        f"\n\nB/A of the medians: **{document['scheduler_over_demo']:.2f}**; pair by pair: {pairs}."
        f" Transform runs in each B run: {', '.join(map(str, sched['transform_runs']))}."
        f" Failed runs: {len(document.get('failed_runs', []))}."
        f" Measured {document['measured_at']} on {document['machine']['cpus']} CPUs."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="pairs (A then B) to run")
    parser.add_argument(
        "--add", action="store_true", help="add the new pairs to the runs already in the results file (medians of all)"
    )
    parser.add_argument("--table", action="store_true", help="print the last results as a Markdown table, run nothing")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(RESULTS.read_text())))
        return 0
    earlier = json.loads(RESULTS.read_text()) if args.add else {}
    results: dict[str, list[dict]] = earlier.get("runs", {"demo": [], "scheduler": []})
    failures: list[dict] = earlier.get("failed_runs", [])
    first_pair = 1 + max((r["pair"] for r in [*results["demo"], *results["scheduler"], *failures]), default=0)
    server = embedded.resolve(start=True)
    tmp = tempfile.mkdtemp(prefix="bench-scheduler-")
    for pair in range(first_pair, first_pair + args.runs):
        for name, run in (("demo", run_demo), ("scheduler", run_scheduler)):
            print(f"==> pair {pair}: {name}", flush=True)
            folder = Path(tmp) / f"{name}-{pair}"
            try:
                outcome = run(server, folder)
            except Exception as error:  # noqa: BLE001 - a failed run is reported, and the others still count
                # The state folders (the stack's and every task's logs) are what explains a failed run.
                print(f"==> pair {pair} ({name}) failed: {error}; state kept in {folder}", flush=True)
                failures.append({"pair": pair, "path": name, "error": str(error)[:500], "kept_in": str(folder)})
                continue
            print(f"    {json.dumps({k: round(v, 1) for k, v in outcome.items()})}", flush=True)
            results[name].append({"pair": pair, "measured_at": _now(), **{k: round(v, 1) for k, v in outcome.items()}})
            shutil.rmtree(folder, ignore_errors=True)
    if not any(f["pair"] >= first_pair for f in failures):
        shutil.rmtree(tmp)
    warehouse.drop_database(server, BENCH_DB)
    if not results["demo"] or not results["scheduler"]:
        print(f"no successful run of one path; failures: {json.dumps(failures, indent=2)}")
        return 1
    document = summary(results, failures)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps({k: v for k, v in document.items() if k != "runs"}, indent=2))
    print(f"written: {RESULTS}")
    return 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def summary(results: dict[str, list[dict]], failures: list[dict]) -> dict:
    """Medians, spreads and ratios of every successful run; the runs themselves are kept under `runs`."""
    demo_s = summarise([r["pipeline_s"] for r in results["demo"]])
    sched_s = summarise([r["pipeline_s"] for r in results["scheduler"]])
    demo_by_pair = {r["pair"]: r["pipeline_s"] for r in results["demo"]}
    pair_ratios = [
        round(r["pipeline_s"] / demo_by_pair[r["pair"]], 2) for r in results["scheduler"] if r["pair"] in demo_by_pair
    ]
    return {
        "description": "trigger to packs: make demo's DAG.test path (A) against the real scheduler (B), alternating",
        "measured_at": _now(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "pairs": len({r["pair"] for r in [*results["demo"], *results["scheduler"]]} | {f["pair"] for f in failures}),
        "demo": {**demo_s, "prepare_s": summarise([r["prepare_s"] for r in results["demo"]])["median_s"]},
        "scheduler": {
            **sched_s,
            "stack_start_s": summarise([r["stack_start_s"] for r in results["scheduler"]])["median_s"],
            "transform_runs": [r["transform_runs"] for r in results["scheduler"]],
            "parallelism": 4,
        },
        "scheduler_over_demo": round(sched_s["median_s"] / demo_s["median_s"], 2),
        "scheduler_over_demo_by_pair": pair_ratios,
        "failed_runs": failures,
        "runs": results,
    }


if __name__ == "__main__":
    sys.exit(main())
