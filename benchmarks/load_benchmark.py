"""Loader benchmark at national size: our loader against the other ways of putting rows into PostgreSQL.

    .venv/bin/python benchmarks/load_benchmark.py [--rows N] [--repeats 3]

One run measures, on the same generated WMT-weekly-shaped table (11 columns: text ids, a date, integers,
numerics; ~0.1% invalid rows), each into a logged table without indexes, emptied between runs:

* `loader`: `probation_evidence.loading.load_landed_file` on the landed Parquet file, end to end
  (checksum, schema check, Arrow validation, binary COPY, quarantine of the invalid rows, audit rows);
* `adbc`: `adbc_driver_postgresql` `cursor.adbc_ingest(mode="append")` of the same landed Parquet file,
  read and cast to the target types (what a loader built on it must do; no validation). The ingest alone,
  from a table already in memory, is recorded too (`adbc_in_memory_rows_per_s`);
* `server_copy`: server-side `COPY ... FROM '/file.csv' (format csv)` of the same rows (CSV written first);
* `insert_rows`: Airflow's `PostgresHook.insert_rows` with its defaults, on a sample, scaled to rows/s.

Each run is a subprocess, so its peak RSS is its own; the loader also runs at a quarter of the size to
show its memory follows the batch size, not the file size. Results go to `benchmarks/results/load.json`.
Honours `WAREHOUSE_URL`; otherwise the project's embedded PostgreSQL is started. Either way the work
happens in a database of its own (`probation_evidence_bench`, dropped and recreated), never the demo's.
The exit status never depends on speed: a benchmark records, it does not judge.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from probation_evidence import contracts, landing, warehouse  # noqa: E402
from probation_evidence.contracts import Contract, Field  # noqa: E402

BENCH_DB = "probation_evidence_bench"
RESULTS = ROOT / "benchmarks" / "results" / "load.json"
PROVIDER = "N07"
PERIOD = date(2026, 9, 27)  # a Sunday: the week the return describes
GRADES = ("PO", "PSO", "PQiP")
INVALID_EVERY = 1000  # ~0.1% invalid rows

#: Benchmark-only contract shaped like the WMT weekly caseload return (11 columns).
BENCH_CONTRACT = Contract(
    source="bench",
    entity="wmt_weekly",
    version="1.0",
    transport="file",
    frequency="weekly",
    description="Benchmark only: the shape of the WMT weekly caseload return.",
    key=("staff_id", "week_ending_date"),
    fields=(
        Field("provider_id", "text", references="provider"),
        Field("staff_id", "text"),
        Field("pdu_code", "text", references="pdu"),
        Field("grade", "text", allowed=GRADES),
        Field("week_ending_date", "date", is_period=True),
        Field("active_cases", "integer", minimum=0, maximum=500),
        Field("high_tier_cases", "integer", minimum=0, maximum=500),
        Field("total_points", "integer", minimum=0, maximum=50000),
        Field("contracted_hours", "numeric", minimum=0, maximum=48, min_exclusive=True),
        Field("reduction_hours", "numeric", minimum=0, maximum=48),
        Field("capacity_pct", "numeric", minimum=0, maximum=2000),
    ),
)
#: The same table shape (11 columns + the loader's 4 metadata columns), for the paths that are not our loader:
#: every path writes the same rows into the same shape of table.
OTHER_TABLE = "raw.bench_other_paths"


def register_contract() -> None:
    contracts.CONTRACTS[(BENCH_CONTRACT.source, BENCH_CONTRACT.entity)] = BENCH_CONTRACT


# ------------------------------------------------------------------------------------------ data
def make_table(rows: int, seed: int = 20260930):
    """Columns as a connector lands them: text and dates as strings, integers int64, numerics float64."""
    import pyarrow as pa

    from probation_evidence.registry import pdus_by_region

    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    pdus = [p.pdu_code for p in pdus_by_region()[PROVIDER]]
    other_pdu = next(p.pdu_code for region, ps in pdus_by_region().items() if region != PROVIDER for p in ps)
    pool = 65_536  # a pool of realistic rows, repeated; keys are unique per row

    def sample(make):
        values = [make() for _ in range(pool)]
        return [values[i % pool] for i in range(rows)]

    hours = sample(lambda: rng.choice((37.0, 37.0, 37.0, 30.0, 22.5, 18.5, 29.6)))
    reductions = sample(lambda: rng.choice((0.0, 0.0, 0.0, 3.7, 7.4, 1.5)))
    columns = {
        "provider_id": [PROVIDER] * rows,
        "staff_id": [f"STF-{i:012x}" for i in range(rows)],
        "pdu_code": sample(lambda: rng.choice(pdus)),
        "grade": sample(lambda: rng.choice(GRADES)),
        "week_ending_date": [PERIOD.isoformat()] * rows,
        "active_cases": sample(lambda: rng.randint(5, 60)),
        "high_tier_cases": sample(lambda: rng.randint(0, 5)),
        "total_points": sample(lambda: rng.randint(200, 4500)),
        "contracted_hours": hours,
        "reduction_hours": reductions,
        "capacity_pct": sample(lambda: round(rng.uniform(20, 180), 1)),
    }
    faults = [
        ("active_cases", lambda i: -3),
        ("grade", lambda i: "Chief"),
        ("capacity_pct", lambda i: 2500.0),
        ("provider_id", lambda i: "N99"),
        ("pdu_code", lambda i: other_pdu),
        ("contracted_hours", lambda i: 0.0),
        ("staff_id", lambda i: columns["staff_id"][i - 1]),  # a duplicate key
    ]
    invalid = 0
    for n, i in enumerate(range(INVALID_EVERY // 2, rows, INVALID_EVERY)):
        name, value = faults[n % len(faults)]
        columns[name][i] = value(i)
        invalid += 1
    types = {"active_cases": pa.int64(), "high_tier_cases": pa.int64(), "total_points": pa.int64()}
    types |= {"contracted_hours": pa.float64(), "reduction_hours": pa.float64(), "capacity_pct": pa.float64()}
    table = pa.table({name: pa.array(values, types.get(name, pa.string())) for name, values in columns.items()})
    return table, invalid


def with_metadata(table, batch_id: str = "bench-wmt_weekly-N07-20260927-000000000000"):
    """The rows plus the loader's metadata columns (constant batch id, load time and file; row numbers)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    loaded_at = datetime(2026, 9, 28, 6, 0, tzinfo=UTC)
    source_file = f"bench/wmt_weekly/provider_id={PROVIDER}/period={PERIOD}/{batch_id}.parquet"
    return (
        table.append_column("_batch_id", pa.repeat(pa.scalar(batch_id), n))
        .append_column("_loaded_at", pa.repeat(pa.scalar(loaded_at, pa.timestamp("us", tz="UTC")), n))
        .append_column("_source_file", pa.repeat(pa.scalar(source_file), n))
        .append_column("_row_number", pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int32()), n)))
    )


def typed_for_adbc(table):
    """The rows cast to the target column types, as ADBC's binary COPY needs them, plus metadata."""
    import pyarrow as pa

    target = {f.name: f.kind for f in BENCH_CONTRACT.fields}
    kinds = {"text": pa.string(), "date": pa.date32(), "integer": pa.int32(), "numeric": pa.float64()}
    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if target[name] == "date":
            column = column.cast(pa.date32())
        columns[name] = column.cast(kinds[target[name]])
    return with_metadata(pa.table(columns))


# ------------------------------------------------------------------------------------------ workers
def _rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not `ru_maxrss`: Linux carries that over from the parent
    across fork and exec, so a worker would report the benchmark's own data generation."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def worker(args) -> dict:
    """One timed run, in its own process; prints a JSON line."""
    import psycopg

    url = args.url
    if args.mode == "loader":
        from probation_evidence.loading import load_landed_file

        register_contract()
        manifest = landing.Manifest.from_dict(json.loads(Path(args.manifest).read_text()))
        with psycopg.connect(url) as conn:
            start = time.perf_counter()
            result = load_landed_file(conn, manifest, Path(args.landing), batch_rows=args.batch_rows)
            seconds = time.perf_counter() - start
        return {"seconds": seconds, "rows": result.rows_landed, "loaded": result.rows_loaded,
                "quarantined": result.rows_quarantined, "peak_rss_mb": _rss_mb()}  # fmt: skip
    if args.mode == "adbc":
        import adbc_driver_postgresql.dbapi as adbc
        import pyarrow.parquet as pq

        with adbc.connect(url) as conn, conn.cursor() as cur:
            start = time.perf_counter()
            table = typed_for_adbc(pq.read_table(args.parquet))  # the same landed file the loader starts from
            ingest_start = time.perf_counter()
            rows = cur.adbc_ingest(OTHER_TABLE.split(".")[1], table, mode="append", db_schema_name="raw")
            conn.commit()
            end = time.perf_counter()
        return {"seconds": end - start, "ingest_seconds": end - ingest_start,
                "rows": rows if rows and rows > 0 else table.num_rows, "peak_rss_mb": _rss_mb()}  # fmt: skip
    if args.mode == "server_copy":
        with psycopg.connect(url) as conn:
            start = time.perf_counter()
            cur = conn.execute(f"copy {OTHER_TABLE} from '{args.csv}' (format csv, header true)")  # noqa: S608
            rows = cur.rowcount
            conn.commit()
            seconds = time.perf_counter() - start
        return {"seconds": seconds, "rows": rows, "peak_rss_mb": _rss_mb()}
    if args.mode == "insert_rows":
        import pyarrow.parquet as pq

        os.environ["AIRFLOW_CONN_BENCH_WAREHOUSE"] = url.replace("postgresql://", "postgres://", 1)
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        table = with_metadata(pq.read_table(args.parquet).slice(0, args.sample))
        rows = [tuple(r.values()) for r in table.to_pylist()]
        hook = PostgresHook(postgres_conn_id="bench_warehouse")
        start = time.perf_counter()
        hook.insert_rows(OTHER_TABLE, rows, target_fields=table.column_names)
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "rows": len(rows), "peak_rss_mb": _rss_mb()}
    raise SystemExit(f"unknown mode {args.mode}")


def run_worker(mode: str, **options) -> dict:
    argv = [sys.executable, __file__, "--worker", mode]
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins")}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1][:500]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------ database
def bench_url(server: warehouse.WarehouseUrl) -> warehouse.WarehouseUrl:
    import psycopg

    url = warehouse.fresh_database(server, BENCH_DB)
    warehouse.bootstrap(url)
    with psycopg.connect(url.url()) as conn:
        conn.execute(contracts.create_table_sql(BENCH_CONTRACT))
        conn.execute(f"alter table {BENCH_CONTRACT.qualified_table} owner to warehouse_loader")
        conn.execute(f"create table {OTHER_TABLE} (like {BENCH_CONTRACT.qualified_table})")
    return url


def reset(url: warehouse.WarehouseUrl) -> None:
    import psycopg

    with psycopg.connect(url.url(), autocommit=True) as conn:
        conn.execute(f"truncate {BENCH_CONTRACT.qualified_table}, {OTHER_TABLE}")
        conn.execute("delete from audit.quarantine")
        conn.execute("delete from audit.load_batches")
        conn.execute("checkpoint")  # each run starts from the same WAL state


def drop_database(server: warehouse.WarehouseUrl) -> None:
    warehouse.drop_database(server, BENCH_DB)


def server_version(url: warehouse.WarehouseUrl) -> str:
    import psycopg

    with psycopg.connect(url.url()) as conn:
        return conn.execute("show server_version").fetchone()[0]


# ------------------------------------------------------------------------------------------ main
def measure(label: str, url, repeats: int, mode: str, **options) -> dict:
    runs = []
    for _ in range(repeats):
        reset(url)
        result = run_worker(mode, url=url.url(), **options)
        if "error" in result:
            print(f"  {label}: failed: {result['error']}", flush=True)
            return {"error": result["error"], "runs": runs}
        runs.append(result)
        print(
            f"  {label}: {result['rows'] / result['seconds']:,.0f} rows/s, {result['peak_rss_mb']:.0f} MB", flush=True
        )
    seconds = statistics.median(r["seconds"] for r in runs)
    extra = {}
    if all("ingest_seconds" in r for r in runs):
        extra["in_memory_rows_per_s"] = round(runs[0]["rows"] / statistics.median(r["ingest_seconds"] for r in runs))
    return {
        **extra,
        "rows_per_s": round(runs[0]["rows"] / seconds),
        "median_seconds": round(seconds, 3),
        "seconds": [round(r["seconds"], 3) for r in runs],
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
        **{k: v for k, v in runs[0].items() if k in {"rows", "loaded", "quarantined"}},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--small-rows", type=int, default=None, help="second loader size for RSS (rows / 4)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=50_000, help="rows for insert_rows (scaled to rows/s)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    for hidden in ("url", "manifest", "landing", "parquet", "csv"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.mode = args.worker
        print(json.dumps(worker(args)))
        return 0

    register_contract()
    small_rows = args.small_rows or args.rows // 4
    server = warehouse.resolve(start=True)
    print(f"warehouse: {server.masked} (database {BENCH_DB})", flush=True)
    url = bench_url(server)
    # World-readable, so a server running as another user can read the CSV for server-side COPY.
    work = Path(tempfile.mkdtemp(prefix="pe-load-bench-"))
    work.chmod(0o755)
    results: dict = {}
    try:
        started = time.perf_counter()
        table, invalid = make_table(args.rows)
        small, small_invalid = make_table(small_rows, seed=7)
        manifest = landing.land_table(table, BENCH_CONTRACT, PROVIDER, PERIOD, work / "landing")
        small_manifest = landing.land_table(small, BENCH_CONTRACT, PROVIDER, PERIOD, work / "landing")
        parquet = work / "landing" / manifest.path
        csv_path = work / "rows.csv"
        import pyarrow.csv as pacsv

        pacsv.write_csv(with_metadata(table), csv_path)
        csv_path.chmod(0o644)
        for path in (work / "manifest.json", work / "small-manifest.json"):
            m = manifest if path.name == "manifest.json" else small_manifest
            path.write_text(json.dumps(m.to_dict()))
        del table, small
        print(f"data: {args.rows:,} rows landed ({invalid} invalid), in {time.perf_counter() - started:.1f} s")
        common = {"batch_rows": args.batch_rows, "landing": work / "landing"}

        print(f"measuring (median of {args.repeats}):", flush=True)
        loader = measure("loader", url, args.repeats, "loader", manifest=work / "manifest.json", **common)
        adbc = measure("adbc_ingest", url, args.repeats, "adbc", parquet=parquet)
        server_copy = measure("server COPY FROM file", url, args.repeats, "server_copy", csv=csv_path)
        insert_rows = measure("insert_rows", url, 1, "insert_rows", parquet=parquet, sample=args.sample)
        small_loader = measure(
            f"loader at {small_rows:,} rows", url, 1, "loader", manifest=work / "small-manifest.json", **common
        )
        if "error" in server_copy and "permission" in server_copy["error"].lower():
            server_copy["reason"] = "the server cannot read the CSV file the benchmark wrote"

        def rate(result):
            return result.get("rows_per_s")

        others = {"adbc": rate(adbc), "server_copy": rate(server_copy), "insert_rows": rate(insert_rows)}
        fastest_name, fastest = max(((k, v) for k, v in others.items() if v), key=lambda kv: kv[1], default=(None, 0))
        results = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": args.rows,
            "columns": len(BENCH_CONTRACT.fields),
            "invalid_rows": invalid,
            "batch_rows": args.batch_rows,
            "repeats": args.repeats,
            "table": "every path writes the same rows into the same table shape: the 11 columns plus the loader's "
            "4 metadata columns (_batch_id, _loaded_at, _source_file, _row_number); logged, no indexes, emptied "
            "and checkpointed before each run; each run in its own process",
            "loader_rows_per_s": rate(loader),
            "adbc_rows_per_s": rate(adbc),
            "adbc_in_memory_rows_per_s": adbc.get("in_memory_rows_per_s"),
            "server_copy_rows_per_s": rate(server_copy),
            "insert_rows_rows_per_s": rate(insert_rows),
            "fastest_other_path": fastest_name,
            "loader_vs_fastest_ratio": round(rate(loader) / fastest, 3) if rate(loader) and fastest else None,
            "loader_peak_rss_mb": {
                str(small_rows): small_loader.get("peak_rss_mb"),
                str(args.rows): loader.get("peak_rss_mb"),
            },
            "paths": {
                "loader": {**loader, "what": "load_landed_file end to end: sha256 check, Arrow validation, "
                           "binary COPY of valid rows, quarantine of invalid ones, audit rows; one transaction"},
                "loader_small": {**small_loader, "rows_landed": small_rows},
                "adbc": {**adbc, "what": "read the same landed Parquet file, cast to the target types, "
                         "cursor.adbc_ingest(mode='append'), commit; no validation. in_memory_rows_per_s times "
                         "the ingest alone, from a table already in memory"},
                "server_copy": {**server_copy, "what": "server-side COPY ... FROM '<file>.csv' (format csv); "
                                "writing the CSV not timed; no validation"},
                "insert_rows": {**insert_rows, "sampled": True, "what": "PostgresHook.insert_rows with defaults on a "
                                f"{args.sample:,}-row sample, scaled to rows/s; building the Python rows not timed"},
            },
            "machine": {
                "cpu_count": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "postgresql": server_version(url),
                "warehouse": "WAREHOUSE_URL" if os.environ.get("WAREHOUSE_URL") else "embedded",
            },
        }  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
        drop_database(server)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k not in {"paths", "machine"}}, indent=2))
    print(f"written: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
