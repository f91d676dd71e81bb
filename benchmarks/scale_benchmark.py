"""The whole pipeline at 1x, 2x, 4x and 8x national size: time per stage, rows loaded, peak memory.

    .venv/bin/python benchmarks/scale_benchmark.py [--factors 1,2,4,8] [--chaos] [--no-increment] [--merge] [--table]

Size grows with HISTORY, not providers: factor k is the national simulation (12 regions, ~20k staff) with k
years of history (`PROBATION_EVIDENCE_HISTORY_YEARS=k`): 52k weeks of weekly returns and 4k quarters of
surveys, referrals, complaints and governance records. The providers are the real regions and PDUs of the
reference data, so more history is how the data really grows (planners keep years of it); the snapshot
sources (staff lists, absences, ICT) describe "now" and do not grow with it.

Each factor runs `make demo`'s path on a fresh database and fresh state folders: bootstrap, the simulated
providers' file drops (timed as `simulate`, the providers' side), the simulated APIs (without the demo's
chaos unless `--chaos`: the connector's retry sleeps are the simulator's, not the pipeline's), then every
DAG through `DAG.test()` in one process (`dag_runner`). Stages come from the runs themselves:
- extract, land, load: summed from each `load_provider` task's result (`seconds`, timed inside the tasks);
- dbt build: the `transform_warehouse` run, start to end;
- publish: the `publish_evidence_packs` run, start to end (per pack: each `render_pack` task's duration);
- other: the rest of the ingest DAGs' wall time (Airflow's own work, `record_submissions`, checks).
Then, unless `--no-increment`, two more transform runs (fresh DAG runs, the next days). First with nothing
new (`increment.nothing_new`: the floor, Airflow's and dbt's fixed costs, as every node is left as built);
then a one-week increment: the next week of every provider's weekly returns is landed and loaded by the
real loader first. Each span is set against the full build's (`ratio_to_full`; the target is <= 0.10), with
the time of the tasks that do the work (`tasks_s`). The marts and the incremental models after it are
then compared, row for row (count and md5 of the ordered rows), with a plain `dbt build --full-refresh` of
the same data.
Memory is sampled every 0.25 s over the pipeline's process tree (the benchmark itself, the DAG runner and
its children, the simulator): `peak_rss_mb` is the largest single process, `peak_tree_rss_mb` the largest
sum. PostgreSQL's own processes are not counted. Results go to `benchmarks/results/scale.json`; a benchmark
records, it does not judge: the exit status never depends on speed. `--merge` keeps the results of the
factors not run this time from the file (they say when each was measured).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import psycopg
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from probation_evidence import settings, warehouse  # noqa: E402
from probation_evidence.local import airflow_env, dbt_runner, demo, embedded  # noqa: E402
from probation_evidence.simulator.workload import generate_weekly_caseload  # noqa: E402
from probation_evidence.sources import contracts, ingest, landing, loading  # noqa: E402

BENCH_DB = "probation_evidence_bench_scale"
RESULTS = ROOT / "benchmarks" / "results" / "scale.json"
STAGES = ("extract", "land", "load", "dbt_build", "publish", "other")
#: The issue's bar for "no faster than linear": the time ratio 8x / 1x of any stage.
LINEAR_LIMIT = 8.5


class MemorySampler:
    """Peak RSS of a process tree, sampled on a thread: the largest single process and the largest sum."""

    def __init__(self, interval: float = 0.25) -> None:
        self._psutil = psutil
        self.interval = interval
        self.peak_process_mb = 0.0
        self.peak_tree_mb = 0.0
        self.peak_process_name = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        me = self._psutil.Process()
        total = 0.0
        for process in [me, *me.children(recursive=True)]:
            try:
                rss = process.memory_info().rss / 2**20
                name = " ".join(process.cmdline()[1:3])[:80]
            except (self._psutil.NoSuchProcess, self._psutil.AccessDenied, self._psutil.ZombieProcess):
                continue
            total += rss
            if rss > self.peak_process_mb:
                self.peak_process_mb, self.peak_process_name = rss, name
        self.peak_tree_mb = max(self.peak_tree_mb, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _airflow_stages(airflow_db: Path) -> dict:
    """Stage seconds from Airflow's metadata: the load tasks' own timings, the DAG runs' spans."""
    with sqlite3.connect(airflow_db) as db:
        # A DAG.test run's own start_date is its logical date: its span is its tasks' first start to last end.
        runs = {
            dag_id: (datetime.fromisoformat(start), datetime.fromisoformat(end))
            for dag_id, start, end in db.execute(
                "select dag_id, min(start_date), max(end_date) from task_instance "
                "where start_date is not null group by dag_id"
            )
        }
        values = [row[0] for row in db.execute("select value from xcom where task_id = 'load_provider'")]
        renders = [
            row[0]
            for row in db.execute(
                "select duration from task_instance where dag_id = 'publish_evidence_packs' "
                "and task_id = 'render_pack' and state = 'success'"
            )
        ]
        slowest = db.execute(
            "select task_id, round(duration, 1) from task_instance where dag_id = 'transform_warehouse' "
            "order by duration desc limit 8"
        ).fetchall()
    sums = {"extract": 0.0, "land": 0.0, "load": 0.0}
    for value in values:
        result = json.loads(value) if isinstance(value, str) else value
        for stage in sums:
            sums[stage] += (result or {}).get("seconds", {}).get(stage, 0.0)

    def span(dag_id: str) -> float:
        start, end = runs[dag_id]
        return (end - start).total_seconds()

    ingest = sum(span(dag_id) for dag_id in demo.INGEST_DAGS)
    return {
        **sums,
        "dbt_build": span("transform_warehouse"),
        "publish": span("publish_evidence_packs"),
        "other": max(0.0, ingest - sum(sums.values())),
        "_render_pack_s": renders,
        "_slowest_dbt_tasks": [{"task_id": task_id, "seconds": seconds} for task_id, seconds in slowest],
    }


def _warehouse_counts(url: warehouse.WarehouseUrl) -> dict:
    with psycopg.connect(url.url()) as conn:
        landed, loaded, quarantined, batches = conn.execute(
            "select sum(rows_landed), sum(rows_loaded), sum(rows_quarantined), count(*) from audit.load_batches"
        ).fetchone()
        weekly = conn.execute("select count(*) from raw.workload_weekly_caseload").fetchone()[0]
        indicators = conn.execute("select count(*) from marts.fct_indicator_values").fetchone()[0]
    return {"rows_landed": int(landed), "rows_loaded": int(loaded), "rows_quarantined": int(quarantined),
            "batches": batches, "weekly_caseload_rows": weekly, "indicator_values": indicators}  # fmt: skip


def _pack_files(packs: Path) -> dict:
    pdfs = sorted(packs.rglob("*.pdf"))
    pages = []
    for pdf in pdfs:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False).stdout
        pages += [int(line.split()[-1]) for line in info.splitlines() if line.startswith("Pages:")]
    sizes = [pdf.stat().st_size / 1024 for pdf in pdfs]
    return {
        "packs": len(pdfs),
        "pdf_kb_median": round(statistics.median(sizes), 1) if sizes else None,
        "pdf_kb_max": round(max(sizes), 1) if sizes else None,
        "pdf_pages_median": statistics.median(pages) if pages else None,
        "pdf_pages_max": max(pages) if pages else None,
    }


def run_factor(
    server: warehouse.WarehouseUrl, factor: int, root: Path, chaos: bool, seed: int, increment: bool = True
) -> dict:
    """The pipeline once at `factor` years of national history; its stages, rows, memory and packs."""
    os.environ.update({**settings.state_folders(root), settings.HISTORY_YEARS_ENV: str(factor)})
    url = warehouse.fresh_database(server, BENCH_DB)
    with MemorySampler() as memory:
        started = time.monotonic()
        warehouse.bootstrap(url)
        simulate_started = time.monotonic()
        demo.drop_provider_files(settings.DEMO_AS_AT, seed, "national")
        simulate_s = time.monotonic() - simulate_started
        with demo.simulator(seed, "national", chaos=chaos) as api:
            env = airflow_env.environment(url, api)
            demo.ensure_dbt_manifest(env)
            airflow_env.migrate(env)
            prepared = time.monotonic()
            runner = [sys.executable, "-m", "probation_evidence.local.dag_runner", settings.DEMO_AS_AT.isoformat(),
                      *demo.DAG_ORDER]  # fmt: skip
            if subprocess.run(runner, env=env, check=False).returncode != 0:
                raise RuntimeError(f"the pipeline failed at {factor}x: its output is above")
            ended = time.monotonic()
    stages = _airflow_stages(airflow_env.airflow_home() / "airflow.db")
    renders = stages.pop("_render_pack_s")
    slowest = stages.pop("_slowest_dbt_tasks")
    counts, packs = _warehouse_counts(url), _pack_files(settings.packs_dir())
    return {
        "factor": factor,
        "history_years": factor,
        "measured_at": _now(),
        # The pipeline: the first ingest task to the last pack. The simulated providers' side (`simulate`,
        # writing their files) and the preparation (bootstrap, Airflow's metadata database) are apart.
        "total_s": round(ended - prepared, 1),
        "simulate_s": round(simulate_s, 1),
        "prepare_s": round(prepared - started - simulate_s, 1),
        "stages_s": {stage: round(stages[stage], 1) for stage in STAGES},
        **counts,
        "peak_rss_mb": round(memory.peak_process_mb),
        "peak_rss_process": memory.peak_process_name,
        "peak_tree_rss_mb": round(memory.peak_tree_mb),
        "render_pack_s_median": round(statistics.median(renders), 2) if renders else None,
        "render_pack_s_max": round(max(renders), 2) if renders else None,
        **packs,
        "slowest_dbt_tasks": slowest,
        "increment": run_increment(url, stages["dbt_build"], seed) if increment else None,
    }


def _run_span(airflow_db: Path, dag_id: str) -> float:
    """The latest run of `dag_id`: its tasks' first start to last end, in seconds."""
    with sqlite3.connect(airflow_db) as db:
        start, end = db.execute(
            "select min(start_date), max(end_date) from task_instance where dag_id = ? and run_id = "
            "(select run_id from dag_run where dag_id = ? order by id desc limit 1)",
            [dag_id, dag_id],
        ).fetchone()
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _digests(url: warehouse.WarehouseUrl) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the ordered rows of every mart and of every incremental model's table."""
    manifest = json.loads((settings.dbt_project_dir() / "target" / "manifest.json").read_text())
    incremental = {
        (node["schema"], node.get("alias") or node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    }
    with psycopg.connect(url.url()) as conn:
        marts = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema = 'marts' and table_type = 'BASE TABLE'"
        ).fetchall()
        return {
            f"{schema}.{name}": warehouse.table_digest(conn, schema, name)
            for schema, name in sorted({*map(tuple, marts), *incremental})
        }


def run_increment(url: warehouse.WarehouseUrl, full_build_s: float, seed: int) -> dict:
    """The transform again with nothing new (its floor: Airflow's and dbt's fixed costs), then with one more
    week of weekly returns loaded: each against the full build's time, and the result against a full
    rebuild of the same data."""
    unchanged = _transform_again(url, 1)
    contract = contracts.get_contract("workload", "weekly_caseload")
    with psycopg.connect(url.url()) as conn:
        last = conn.execute("select max(week_ending_date) from raw.workload_weekly_caseload").fetchone()[0]
    week = last + timedelta(weeks=1)
    root = settings.landing_dir()
    manifests = [
        landing.land_table(
            pa.Table.from_pylist(generate_weekly_caseload(seed, week, provider_id, size="national")),
            contract, provider_id, week, root,
        )
        for provider_id in ingest.provider_ids()
    ]  # fmt: skip
    with psycopg.connect(url.url()) as conn:
        rows = sum(loading.load_landed_file(conn, manifest, root).rows_loaded for manifest in manifests)
    increment = _transform_again(url, 2)
    after_increment = _digests(url)
    with tempfile.TemporaryDirectory(prefix="bench-scale-dbt-") as target:
        os.environ.update({"DBT_TARGET_PATH": target, "DBT_LOG_PATH": target})
        try:
            started = time.monotonic()
            dbt_runner.run(["build", "--full-refresh"], url=url)
            rebuild_s = time.monotonic() - started
        finally:
            for name in ("DBT_TARGET_PATH", "DBT_LOG_PATH"):
                os.environ.pop(name, None)
    rebuilt = _digests(url)
    differing = sorted(name for name in rebuilt if after_increment.get(name) != rebuilt[name])
    return {
        "week": week.isoformat(),
        "rows_loaded": rows,
        "transform_s": increment["span_s"],
        "full_transform_s": round(full_build_s, 1),
        "ratio_to_full": round(increment["span_s"] / full_build_s, 3),
        "tasks_s": increment["tasks_s"],
        "nothing_new": {**unchanged, "ratio_to_full": round(unchanged["span_s"] / full_build_s, 3)},
        "plain_dbt_full_refresh_s": round(rebuild_s, 1),
        "tables_compared": len(rebuilt),
        "equal_to_full_rebuild": not differing,
        "differing_tables": differing,
    }


#: The transform's tasks that do the dbt work (the rest are its sensors and its state tasks).
DBT_WORK = ("mark_marts_building", "dbt_build.dbt_producer_watcher", "dbt_build.dbt_project_test")


def _transform_again(url: warehouse.WarehouseUrl, days_later: int) -> dict:
    """One more `transform_warehouse` run (a fresh DAG run, `days_later` after the demo's date): its span, and
    the time of the tasks that do the work."""
    env = airflow_env.environment(url)
    day = (settings.DEMO_AS_AT + timedelta(days=days_later)).isoformat()
    runner = [sys.executable, "-m", "probation_evidence.local.dag_runner", day, "transform_warehouse"]
    if subprocess.run(runner, env=env, check=False).returncode != 0:
        raise RuntimeError("a transform run after the full build failed: its output is above")
    airflow_db = airflow_env.airflow_home() / "airflow.db"
    with sqlite3.connect(airflow_db) as db:
        durations = dict(
            db.execute(
                "select task_id, (julianday(end_date) - julianday(start_date)) * 86400 from task_instance"
                " where dag_id = 'transform_warehouse' and run_id = (select run_id from dag_run"
                " where dag_id = 'transform_warehouse' order by id desc limit 1)"
            ).fetchall()
        )
    return {
        "span_s": round(_run_span(airflow_db, "transform_warehouse"), 1),
        "tasks_s": {task_id: round(durations.get(task_id) or 0.0, 1) for task_id in DBT_WORK},
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def growth(runs: list[dict]) -> dict:
    """Each stage's (and the total's, the rows', the memory's) ratio largest factor / smallest factor."""
    first, last = runs[0], runs[-1]
    size_ratio = last["factor"] / first["factor"]

    def ratio(a: float, b: float) -> float | None:
        return round(b / a, 2) if a else None

    stages = {stage: ratio(first["stages_s"][stage], last["stages_s"][stage]) for stage in STAGES}
    return {
        "between": f"{last['factor']}x / {first['factor']}x",
        "size_ratio": size_ratio,
        "total_s": ratio(first["total_s"], last["total_s"]),
        "rows_loaded": ratio(first["rows_loaded"], last["rows_loaded"]),
        "stages_s": stages,
        "peak_rss_mb": ratio(first["peak_rss_mb"], last["peak_rss_mb"]),
        "stages_faster_than_linear": sorted(
            stage for stage, value in stages.items() if value and value > LINEAR_LIMIT * size_ratio / 8
        ),
    }


def table(document: dict) -> str:
    """The results as Markdown: one row per factor."""
    lines = [
        "| size | rows loaded | total | extract | land | load | dbt build | publish | other "
        "| peak RSS (one process) | per pack | PDF pages, size (median) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in document["runs"]:
        s = run["stages_s"]
        lines.append(
            f"| {run['factor']}x ({run['history_years']} y) | {run['rows_loaded']:,} | {run['total_s']:.0f} s "
            + " ".join(f"| {s[stage]:.0f} s" for stage in STAGES)
            + f" | {run['peak_rss_mb']} MB | {run['render_pack_s_median']} s"
            + f" | {run['pdf_pages_median']}, {run['pdf_kb_median']:.0f} kB |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--factors", default="1,2,4,8", help="years of national history, comma-separated")
    parser.add_argument("--chaos", action="store_true", help="let the simulated APIs fail now and then, as the demo")
    parser.add_argument("--seed", type=int, default=settings.DEMO_SEED)
    parser.add_argument("--table", action="store_true", help="print the last results as a Markdown table, run nothing")
    parser.add_argument("--no-increment", action="store_true", help="skip the one-week increment after each size")
    parser.add_argument("--merge", action="store_true", help="keep the file's results for the factors not run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.output.read_text())))
        return 0
    factors = sorted(int(f) for f in args.factors.split(","))
    server = embedded.resolve(start=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    runs, failures = [], []
    for factor in factors:
        print(f"==> {factor}x national ({factor} year(s) of history)", flush=True)
        folder = tmp / f"{factor}x"
        try:
            run = run_factor(server, factor, folder, args.chaos, args.seed, increment=not args.no_increment)
        except Exception as error:  # noqa: BLE001 - a failed size is reported; the others still count
            print(f"==> {factor}x failed: {error}; state kept in {folder}", flush=True)
            failures.append({"factor": factor, "error": str(error)[:500], "kept_in": str(folder)})
            continue
        print(f"    {json.dumps(run)}", flush=True)
        runs.append(run)
        shutil.rmtree(folder, ignore_errors=True)
    warehouse.drop_database(server, BENCH_DB)
    if not failures:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.merge and args.output.exists():
        measured = {r["factor"] for r in runs}  # a size that failed this time keeps its earlier figures
        kept = [r for r in json.loads(args.output.read_text())["runs"] if r["factor"] not in measured]
        runs = sorted([*kept, *runs], key=lambda r: r["factor"])
        factors = [r["factor"] for r in runs]
    document = {
        "description": "the whole pipeline (make demo's DAG.test path) at k years of national history, k = "
        + ", ".join(str(f) for f in factors),
        "grows_by": "history (years of weekly and quarterly returns); 12 providers, ~20k staff at every size",
        "chaos": args.chaos,
        "measured_at": _now(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "warehouse": "WAREHOUSE_URL" if os.environ.get("WAREHOUSE_URL") else "embedded",
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },  # fmt: skip
        "runs": runs,
        "growth": growth(runs) if len(runs) > 1 else None,
        "failed_runs": failures,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(table(document))
    print(json.dumps(document["growth"], indent=2))
    print(f"written: {args.output}")
    return 1 if not runs else 0


if __name__ == "__main__":
    sys.exit(main())
