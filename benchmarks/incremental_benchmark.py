"""Incremental build benchmark at national size: a full rebuild of the weekly workload history against
the build that follows one new week.

    .venv/bin/python benchmarks/incremental_benchmark.py [--weeks 52] [--repeats 3]

The weekly WMT return is the one source that grows without bound: about 20k practitioner rows per week
nationally, a million a year. `int_workload_indicators_counted` is incremental, so the build after a new
week should cost time in proportion to the week, not the history. One run, in a database of its own:

1. The simulator's national-size weekly returns (12 providers) are landed and loaded by the real loader,
   for half the history (`--weeks / 2`); every model is built once, so the marts exist.
2. `full`: `dbt build --full-refresh --select int_workload_indicators_counted+` (the incremental model
   from scratch, its downstream marts and their tests), `--repeats` times.
3. `one_week`: a new week is loaded, then `dbt build --select int_workload_indicators_counted+`;
   `--repeats` new weeks, one build each.
4. The rest of the history is loaded (`--weeks` in all) and 2-3 are measured again.

Both are measured at two history lengths in the same run, so the figures show how each grows with the
history: the full build should roughly double, the one-week build should not. Each figure is the dbt
command's wall time and, from `run_results.json`, the incremental model's own execution time. The
staging tests over the whole weekly history are timed once, separately (`dbt test --select
stg_workload__weekly_caseload`), because they read every row whatever the build. A final check compares
the incrementally built table with a full rebuild, row for row. Last, six more weeks are loaded with
and without the raw table's `_batch_id` index (alternating) to record what the index costs the loader.

Honours `WAREHOUSE_URL`; otherwise the project's embedded PostgreSQL is started. Results go to
`benchmarks/results/incremental.json`. The exit status never depends on speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from probation_evidence import settings, warehouse  # noqa: E402
from probation_evidence.local import dbt_runner, embedded  # noqa: E402
from probation_evidence.simulator.workload import generate_weekly_caseload  # noqa: E402
from probation_evidence.sources import contracts, ingest, landing, loading  # noqa: E402

BENCH_DB = "probation_evidence_bench_incremental"
RESULTS = ROOT / "benchmarks" / "results" / "incremental.json"
MODEL = "int_workload_indicators_counted"
SELECTION = f"{MODEL}+"
FIRST_WEEK = date(2025, 10, 5)  # a Sunday; weeks follow on from it


def bench_url(server: warehouse.WarehouseUrl) -> warehouse.WarehouseUrl:
    url = warehouse.fresh_database(server, BENCH_DB)
    warehouse.bootstrap(url)
    with psycopg.connect(url.url()) as conn:  # every source's raw table, so the whole project builds
        conn.execute(f"set role {settings.LOADER_ROLE}")  # as the loader does: default privileges apply
        for contract in contracts.CONTRACTS.values():
            conn.execute(contracts.create_table_sql(contract))
            if contracts.create_index_sql(contract):
                conn.execute(contracts.create_index_sql(contract))
    return url


def land_weeks(weeks: list[date], seed: int, root: Path) -> list:
    """Generate and land the national weekly returns of `weeks` for every provider; their manifests."""
    contract = contracts.get_contract("workload", "weekly_caseload")
    return [
        landing.land_table(
            pa.Table.from_pylist(generate_weekly_caseload(seed, week, provider_id, size="national")),
            contract, provider_id, week, root,
        )
        for week in weeks
        for provider_id in ingest.provider_ids()
    ]  # fmt: skip


def load_manifests(url: warehouse.WarehouseUrl, manifests: list, root: Path) -> int:
    """Load landed files with the real loader; rows loaded."""
    with psycopg.connect(url.url()) as conn:
        return sum(loading.load_landed_file(conn, manifest, root).rows_loaded for manifest in manifests)


def load_weeks(url: warehouse.WarehouseUrl, weeks: list[date], seed: int, root: Path) -> int:
    return load_manifests(url, land_weeks(weeks, seed, root), root)


def dbt(url: warehouse.WarehouseUrl, *args: str) -> dict:
    """Run dbt; return its wall time, the incremental model's own time and the node count."""
    started = time.perf_counter()
    dbt_runner.run(list(args), url=url)
    seconds = time.perf_counter() - started
    results = json.loads((Path(os.environ["DBT_TARGET_PATH"]) / "run_results.json").read_text())
    model = [r["execution_time"] for r in results["results"] if r["unique_id"].endswith(f".{MODEL}")]
    return {
        "seconds": round(seconds, 3),
        "dbt_elapsed_seconds": round(results["elapsed_time"], 3),
        "model_seconds": round(model[0], 3) if model else None,
        "nodes": len(results["results"]),
    }


def summarise(runs: list[dict]) -> dict:
    return {
        "median_seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "median_model_seconds": round(statistics.median(r["model_seconds"] for r in runs), 3),
        "runs": runs,
    }


def table_digest(url: warehouse.WarehouseUrl) -> tuple[int, str]:
    with psycopg.connect(url.url()) as conn:
        return warehouse.table_digest(conn, "intermediate", MODEL)


def row_count(url: warehouse.WarehouseUrl) -> int:
    with psycopg.connect(url.url()) as conn:
        return conn.execute("select count(*) from raw.workload_weekly_caseload").fetchone()[0]


def index_cost(url, weeks: list[date], seed: int, root: Path) -> dict:
    """Load time of a national week with and without the raw table's `_batch_id` index, alternating."""
    contract = contracts.get_contract("workload", "weekly_caseload")
    timings: dict[str, list[float]] = {"with_index": [], "without_index": []}
    for i, week in enumerate(weeks):
        indexed = i % 2 == 0
        manifests = land_weeks([week], seed, root)  # generating and landing are not timed
        with psycopg.connect(url.url(), autocommit=True) as conn:
            if indexed:
                conn.execute(contracts.create_index_sql(contract))
            else:
                conn.execute(f"drop index if exists raw.{contracts.batch_index_name(contract)}")
            conn.execute("checkpoint")
        # Without the index, the loader must not put it back (it creates it when missing).
        loading.batch_index_name = contracts.batch_index_name if indexed else (lambda _contract: None)
        started = time.perf_counter()
        rows = load_manifests(url, manifests, root)
        timings["with_index" if indexed else "without_index"].append(rows / (time.perf_counter() - started))
    loading.batch_index_name = contracts.batch_index_name
    with psycopg.connect(url.url(), autocommit=True) as conn:
        conn.execute(contracts.create_index_sql(contract))
    result = {k: round(statistics.median(v)) for k, v in timings.items()}
    result["ratio"] = round(result["with_index"] / result["without_index"], 2)
    return {"loader_rows_per_s": result, "weeks": [w.isoformat() for w in weeks]}


def measure_at(url, history: int, next_weeks: list[date], repeats: int, seed: int, root: Path) -> dict:
    print(f"history {history} weeks ({row_count(url):,} rows): full builds", flush=True)
    full = [dbt(url, "build", "--full-refresh", "--select", SELECTION) for _ in range(repeats)]
    one_week = []
    for week in next_weeks:
        load_weeks(url, [week], seed, root)
        one_week.append({"week": week.isoformat(), **dbt(url, "build", "--select", SELECTION)})
        print(f"  + week {week}: {one_week[-1]['seconds']} s (full {full[-1]['seconds']} s)", flush=True)
    return {
        "history_weeks": history,
        "raw_rows": row_count(url),
        "full": summarise(full),
        "one_week": summarise(one_week),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=52, help="history at the second measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=settings.DEMO_SEED)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help=f"leave the {BENCH_DB} database for a closer look")
    args = parser.parse_args()

    server = embedded.resolve(start=True)
    print(f"warehouse: {server.masked} (database {BENCH_DB})", flush=True)
    url = bench_url(server)
    half = args.weeks // 2
    span = args.weeks + 2 * args.repeats + 6
    weeks = [FIRST_WEEK + timedelta(weeks=i) for i in range(span)]
    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
        root = Path(tmp) / "landing"
        os.environ["DBT_TARGET_PATH"] = str(Path(tmp) / "dbt-target")  # never the project's own target/
        os.environ["DBT_LOG_PATH"] = str(Path(tmp) / "dbt-logs")
        started = time.perf_counter()
        load_weeks(url, weeks[:half], args.seed, root)
        print(f"loaded {half} weeks in {time.perf_counter() - started:.0f} s; building every model once", flush=True)
        dbt_runner.run(["seed"], url=url)
        dbt_runner.run(["run"], url=url)
        first = measure_at(url, half, weeks[half : half + args.repeats], args.repeats, args.seed, root)
        rest = weeks[half + args.repeats : args.weeks + args.repeats]
        load_weeks(url, rest, args.seed, root)
        second = measure_at(
            url, args.weeks + args.repeats, weeks[args.weeks + args.repeats : -6], args.repeats, args.seed, root
        )
        print("loader with and without the _batch_id index, alternating weeks", flush=True)
        loading_cost = index_cost(url, weeks[-6:], args.seed, root)
        print("staging tests over the whole history", flush=True)
        staging_tests = dbt(url, "test", "--select", "stg_workload__weekly_caseload")
        # The six weeks just loaded are caught up in one incremental build, then compared with a rebuild.
        dbt(url, "run", "--select", MODEL)
        incremental = table_digest(url)
        dbt(url, "run", "--full-refresh", "--select", MODEL)
        rebuilt = table_digest(url)
    for point in (first, second):
        point["full_over_one_week"] = round(point["full"]["median_seconds"] / point["one_week"]["median_seconds"], 2)
        point["full_over_one_week_model"] = round(
            point["full"]["median_model_seconds"] / point["one_week"]["median_model_seconds"], 2
        )
    result = {
        "benchmark": "incremental",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "server": server.masked},
        "selection": f"dbt build --select {SELECTION}",
        "at_half_history": first,
        "at_full_history": second,
        "growth": {
            "full_build": round(second["full"]["median_seconds"] / first["full"]["median_seconds"], 2),
            "one_week_build": round(second["one_week"]["median_seconds"] / first["one_week"]["median_seconds"], 2),
            "full_build_model": round(
                second["full"]["median_model_seconds"] / first["full"]["median_model_seconds"], 2
            ),
            "one_week_build_model": round(
                second["one_week"]["median_model_seconds"] / first["one_week"]["median_model_seconds"], 2
            ),
        },
        "staging_tests_over_history": staging_tests,
        "batch_index_load_cost": loading_cost,
        "incremental_equals_full_rebuild": incremental == rebuilt,
        "rows_in_model": rebuilt[0],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("growth", "incremental_equals_full_rebuild")}, indent=2))
    for label, point in (("half", first), ("full", second)):
        print(
            f"{label} history ({point['history_weeks']} weeks, {point['raw_rows']:,} rows): full build"
            f" {point['full']['median_seconds']} s, one-week build {point['one_week']['median_seconds']} s"
            f" ({point['full_over_one_week']}x); model alone {point['full']['median_model_seconds']} s vs"
            f" {point['one_week']['median_model_seconds']} s ({point['full_over_one_week_model']}x)"
        )
    print(f"wrote {args.output}")
    if not args.keep:
        warehouse.drop_database(server, BENCH_DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
