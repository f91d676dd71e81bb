# Over 450 lines: one self-contained script (data, four timed paths, rounds, report), so the method reads in one place.
"""Loader benchmark at national size: our loader against the other ways of putting rows into PostgreSQL.

    .venv/bin/python benchmarks/load_benchmark.py [--rows N] [--repeats 5] [--servers embedded,url]

On the same generated WMT-weekly-shaped table (11 columns: text ids, a date, integers, numerics; ~0.1%
invalid rows), each path writes into a logged table without indexes, emptied and checkpointed before
every run:

* `loader`: `probation_evidence.sources.loading.load_landed_file` on the landed Parquet file, end to end
  (checksum, schema check, Arrow validation, binary COPY, quarantine of the invalid rows, audit rows);
* `adbc`: `adbc_driver_postgresql` `cursor.adbc_ingest(mode="append")` of the same landed Parquet file,
  read and cast to the target types (what a loader built on it must do; no validation). The ingest alone,
  from the table already in memory, is timed in the same run (`in_memory`);
* `server_copy`: server-side `COPY ... FROM '/file.csv' (format csv)` of the same rows (CSV written first);
* `insert_rows`: Airflow's `PostgresHook.insert_rows` with its defaults, on a sample, scaled to rows/s.

Method. After an untimed warm-up round (`--warmup`), the timed paths alternate within each round
(loader, adbc, server_copy, loader, adbc, ...), for `--repeats` rounds (at least 5), so a slow spell on a
shared machine hits every path alike. Each path gets its median, min, max and spread (max/min); each round
gives a loader/ADBC ratio, and the headline is the median of those paired ratios, with their min and max.
It runs on the embedded server and, when `WAREHOUSE_URL` is set, on that server too, one section each with
a verdict (ratio >= 0.9). The machine's 1-minute load average is recorded before and after each server's
measurement and at every round.

Each run is a subprocess, so its peak RSS is its own; the loader also runs once at a quarter of the size to
show its memory follows the batch size, not the file size. Results go to `benchmarks/results/load.json`.
The work happens in a database of its own (`probation_evidence_bench`, dropped and recreated on each
server), never the demo's. The exit status never depends on speed: a benchmark records, it does not judge.
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

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from probation_evidence import warehouse  # noqa: E402
from probation_evidence.local import embedded  # noqa: E402
from probation_evidence.reference.registry import pdus_by_region  # noqa: E402
from probation_evidence.sources import contracts, landing  # noqa: E402
from probation_evidence.sources.contracts import Contract, Field  # noqa: E402
from probation_evidence.sources.loading import load_landed_file  # noqa: E402

BENCH_DB = "probation_evidence_bench"
RESULTS = ROOT / "benchmarks" / "results" / "load.json"
PROVIDER = "N07"
PERIOD = date(2026, 9, 27)  # a Sunday: the week the return describes
GRADES = ("PO", "PSO", "PQiP")
INVALID_EVERY = 1000  # ~0.1% invalid rows
MIN_REPEATS = 5
TARGET_RATIO = 0.9  # the loader, validation and quarantine included, against ADBC's ingest of the same file
ROUND_PATHS = ("loader", "adbc", "server_copy")  # the order within each round
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
#: Benchmark-only contract shaped like the WMT weekly caseload return (11 columns).
BENCH_CONTRACT = Contract(
    source="bench",
    entity="wmt_weekly",
    version="1.0",
    transport="file",
    # Not "weekly": the loader gives weekly tables an index on _batch_id, which ADBC's table would not have.
    # Both tables get the same indexes: none, or that one with --batch-index.
    frequency="snapshot",
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


def _proc_cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds of a local process (the server backend), from /proc; None if unreadable."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Clock:
    """Wall time, this process's CPU time (all its threads) and, for a local server, the backend's CPU."""

    def __init__(self, backend_pid: int | None):
        self.pid = backend_pid
        self.wall, self.cpu, self.backend = time.perf_counter(), time.process_time(), _proc_cpu_s(backend_pid)

    def stop(self) -> dict:
        wall, cpu, backend = time.perf_counter(), time.process_time(), _proc_cpu_s(self.pid)
        out = {"seconds": wall - self.wall, "client_cpu_s": round(cpu - self.cpu, 3)}
        if backend is not None and self.backend is not None:
            out["backend_cpu_s"] = round(backend - self.backend, 3)
        return out


def worker(args) -> dict:
    """One timed run, in its own process; prints a JSON line."""
    url = args.url
    local = args.local == "1"
    if args.mode == "loader":
        register_contract()
        manifest = landing.Manifest.from_dict(json.loads(Path(args.manifest).read_text()))
        with psycopg.connect(url) as conn:
            clock = _Clock(conn.info.backend_pid if local else None)
            result = load_landed_file(conn, manifest, Path(args.landing), batch_rows=int(args.batch_rows))
            timing = clock.stop()
        return {**timing, "rows": result.rows_landed, "loaded": result.rows_loaded,
                "quarantined": result.rows_quarantined, "peak_rss_mb": _rss_mb()}  # fmt: skip
    if args.mode == "adbc":
        # Only this path's runs load the ADBC driver, so the other paths' peak RSS does not carry it.
        import adbc_driver_postgresql.dbapi as adbc

        with adbc.connect(url) as conn, conn.cursor() as cur:
            cur.execute("select pg_backend_pid()")
            pid = cur.fetchone()[0] if local else None
            clock = _Clock(pid)
            table = typed_for_adbc(pq.read_table(args.parquet))  # the same landed file the loader starts from
            ingest_start = time.perf_counter()
            rows = cur.adbc_ingest(OTHER_TABLE.split(".")[1], table, mode="append", db_schema_name="raw")
            conn.commit()
            ingest_seconds = time.perf_counter() - ingest_start
            timing = clock.stop()
        return {**timing, "ingest_seconds": ingest_seconds,
                "rows": rows if rows and rows > 0 else table.num_rows, "peak_rss_mb": _rss_mb()}  # fmt: skip
    if args.mode == "server_copy":
        with psycopg.connect(url) as conn:
            clock = _Clock(conn.info.backend_pid if local else None)
            cur = conn.execute(f"copy {OTHER_TABLE} from '{args.csv}' (format csv, header true)")
            rows = cur.rowcount
            conn.commit()
            timing = clock.stop()
        return {**timing, "rows": rows, "peak_rss_mb": _rss_mb()}
    if args.mode == "insert_rows":
        os.environ["AIRFLOW_CONN_BENCH_WAREHOUSE"] = url.replace("postgresql://", "postgres://", 1)
        # After the connection is in the environment, and only in this path's runs (Airflow is large).
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        table = with_metadata(pq.read_table(args.parquet).slice(0, int(args.sample)))
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
        return {"error": (done.stderr or done.stdout or "no output").strip().splitlines()[-1][:500]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------ database
def bench_url(server: warehouse.WarehouseUrl, batch_index: bool) -> warehouse.WarehouseUrl:
    url = warehouse.fresh_database(server, BENCH_DB)
    warehouse.bootstrap(url)
    with psycopg.connect(url.url()) as conn:
        conn.execute(contracts.create_table_sql(BENCH_CONTRACT))
        conn.execute(f"alter table {BENCH_CONTRACT.qualified_table} owner to warehouse_loader")
        conn.execute(f"create table {OTHER_TABLE} (like {BENCH_CONTRACT.qualified_table})")
        if batch_index:  # what a weekly raw table has
            for table in (BENCH_CONTRACT.qualified_table, OTHER_TABLE):
                conn.execute(f"create index on {table} (_batch_id)")
    return url


def table_indexes(url: warehouse.WarehouseUrl) -> dict[str, list[str]]:
    """Each benchmark table's indexes, read after the runs: the paths must write into the same shape."""
    with psycopg.connect(url.url()) as conn:
        return {
            table: [
                row[0]
                for row in conn.execute(
                    "select indexdef from pg_indexes where schemaname = 'raw' and tablename = %s order by 1",
                    [table.split(".")[1]],
                )
            ]
            for table in (BENCH_CONTRACT.qualified_table, OTHER_TABLE)
        }


def reset(url: warehouse.WarehouseUrl) -> None:
    with psycopg.connect(url.url(), autocommit=True) as conn:
        conn.execute(f"truncate {BENCH_CONTRACT.qualified_table}, {OTHER_TABLE}")
        conn.execute("delete from audit.quarantine")
        conn.execute("delete from audit.load_batches")
        conn.execute("checkpoint")  # each run starts from the same WAL state


def server_version(url: warehouse.WarehouseUrl) -> str:
    with psycopg.connect(url.url()) as conn:
        return conn.execute("show server_version").fetchone()[0]


def resolve_servers(names: list[str]) -> dict[str, warehouse.WarehouseUrl]:
    """`embedded`: the project's embedded PostgreSQL (started if need be, left running);
    `url`: the server `WAREHOUSE_URL` names."""
    servers = {}
    for name in names:
        if name == "embedded":
            servers[name] = embedded.EmbeddedWarehouse().start()
        elif name == "url":
            configured = os.environ.get("WAREHOUSE_URL")
            if not configured:
                raise SystemExit("--servers names `url`, but WAREHOUSE_URL is not set")
            servers[name] = warehouse.WarehouseUrl.parse(configured)
        else:
            raise SystemExit(f"unknown server {name!r}: use embedded and/or url")
    return servers


# ------------------------------------------------------------------------------------------ statistics
def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def spread(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "spread_max_over_min": round(max(values) / min(values), 3) if min(values) > 0 else None,
    }


def path_summary(runs: list[dict]) -> dict:
    """Median, min, max and spread of a path's runs, in seconds and rows/s (rows/s at the median time)."""
    ok = [r for r in runs if "error" not in r]
    out: dict = {"runs": len(ok)}
    if not ok:
        out["error"] = runs[-1]["error"] if runs else "not run"
        return out
    rows = ok[0]["rows"]
    seconds = spread([r["seconds"] for r in ok])
    rates = spread([r["rows"] / r["seconds"] for r in ok])
    out |= {
        "rows": rows,
        "rows_per_s": round(rows / seconds["median"]),
        "rows_per_s_min": round(rates["min"]),
        "rows_per_s_max": round(rates["max"]),
        "spread_max_over_min": seconds["spread_max_over_min"],
        "median_seconds": seconds["median"],
        "seconds": [round(r["seconds"], 3) for r in ok],
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in ok)),
    }
    if all("ingest_seconds" in r for r in ok):
        ingest = spread([r["ingest_seconds"] for r in ok])
        out["in_memory"] = {
            "rows_per_s": round(rows / ingest["median"]),
            "median_seconds": ingest["median"],
            "spread_max_over_min": ingest["spread_max_over_min"],
            "seconds": [round(r["ingest_seconds"], 3) for r in ok],
        }
    for key in ("client_cpu_s", "backend_cpu_s"):
        if all(key in r for r in ok):
            out[f"median_{key}"] = round(statistics.median(r[key] for r in ok), 3)
    out |= {k: v for k, v in ok[0].items() if k in {"loaded", "quarantined"}}
    return out


def paired_ratios(rounds: list[dict], other: str, seconds_key: str = "seconds") -> list[float]:
    """Per round, the loader's rows/s over the other path's, both from that round."""
    ratios = []
    for r in rounds:
        loader, them = r["runs"].get("loader", {}), r["runs"].get(other, {})
        if "error" in loader or "error" in them or seconds_key not in them or "seconds" not in loader:
            continue
        ratios.append((loader["rows"] / loader["seconds"]) / (them["rows"] / them[seconds_key]))
    return ratios


# ------------------------------------------------------------------------------------------ one server
def measure_server(name: str, server: warehouse.WarehouseUrl, files: dict, args) -> dict:
    """Every path on one server: `repeats` rounds of the alternating paths, then the one-off runs."""
    print(f"server {name}: {server.masked} (database {BENCH_DB})", flush=True)
    url = bench_url(server, args.batch_index)
    local = "1" if server.host in LOCAL_HOSTS else "0"
    options = {
        "loader": {"manifest": files["manifest"], "landing": files["landing"], "batch_rows": args.batch_rows},
        "adbc": {"parquet": files["parquet"]},
        "server_copy": {"csv": files["csv"]},
    }
    section: dict = {"server": server.masked, "postgresql": server_version(url)}
    busy0, total0 = _cpu_times()
    section["load_average_1m_before"] = load_average()
    rounds = []
    started = time.perf_counter()
    try:
        for path in ROUND_PATHS * args.warmup:  # untimed: the first run on a fresh database is slower
            reset(url)
            result = run_worker(path, url=url.url(), local=local, **options[path])
            section.setdefault("warmup_seconds", {}).setdefault(path, []).append(
                round(result["seconds"], 3) if "seconds" in result else result.get("error")
            )
        for n in range(1, args.repeats + 1):
            this = {"round": n, "load_average_1m": load_average(), "runs": {}}
            for path in ROUND_PATHS:
                reset(url)
                result = run_worker(path, url=url.url(), local=local, **options[path])
                this["runs"][path] = result
                if "error" in result:
                    print(f"  round {n} {path}: failed: {result['error']}", flush=True)
                else:
                    print(f"  round {n} {path}: {result['rows'] / result['seconds']:,.0f} rows/s", flush=True)
            rounds.append(this)
        section["load_average_1m_after"] = load_average()
        busy1, total1 = _cpu_times()
        section["machine_cpu_busy_pct"] = round(100 * (busy1 - busy0) / max(total1 - total0, 1), 1)
        section["measure_seconds"] = round(time.perf_counter() - started, 1)
        section["indexes"] = table_indexes(url)
        reset(url)
        insert_rows = run_worker(
            "insert_rows", url=url.url(), local=local, parquet=files["parquet"], sample=args.sample
        )
        reset(url)
        small = run_worker("loader", url=url.url(), local=local, **{**options["loader"], "manifest": files["small"]})
    finally:
        warehouse.drop_database(server, BENCH_DB)
    return summarise_server(section, rounds, insert_rows, small, args)


def summarise_server(section: dict, rounds: list[dict], insert_rows: dict, small: dict, args) -> dict:
    paths = {path: path_summary([r["runs"][path] for r in rounds]) for path in ROUND_PATHS}
    if "error" in paths["server_copy"] and "permission" in paths["server_copy"]["error"].lower():
        paths["server_copy"]["reason"] = "the server cannot read the CSV file the benchmark wrote"
    paths["insert_rows"] = path_summary([insert_rows]) | {"sampled": True}
    paths["loader_small"] = path_summary([small])
    vs_adbc = paired_ratios(rounds, "adbc")
    vs_in_memory = paired_ratios(rounds, "adbc", "ingest_seconds")
    vs_copy = paired_ratios(rounds, "server_copy")
    headline = round(statistics.median(vs_adbc), 3) if vs_adbc else None
    enough = len(vs_adbc) >= MIN_REPEATS
    section |= {
        "loader_vs_adbc_ratio": headline,
        "loader_vs_adbc_paired": {**spread(vs_adbc), "values": [round(v, 3) for v in vs_adbc]} if vs_adbc else None,
        "loader_vs_adbc_ratio_of_medians": _ratio(paths["loader"], paths["adbc"]),
        "verdict_ratio_at_least_0_9": (headline >= TARGET_RATIO) if headline is not None and enough else None,
        "loader_vs_adbc_in_memory_ratio": round(statistics.median(vs_in_memory), 3) if vs_in_memory else None,
        "loader_vs_adbc_in_memory_paired": spread(vs_in_memory) if vs_in_memory else None,
        "loader_vs_server_copy_ratio": round(statistics.median(vs_copy), 3) if vs_copy else None,
        "loader_peak_rss_mb": {
            str(small.get("rows", "small")): paths["loader_small"].get("peak_rss_mb"),
            str(args.rows): paths["loader"].get("peak_rss_mb"),
        },
        "paths": paths,
        "rounds": [
            {"round": r["round"], "load_average_1m": r["load_average_1m"],
             "loader_vs_adbc": round(vs, 3) if (vs := _round_ratio(r, "adbc")) else None,
             **{p: _round_run(r["runs"][p]) for p in ROUND_PATHS}}
            for r in rounds
        ],
    }  # fmt: skip
    if not enough:
        section["verdict_note"] = f"fewer than {MIN_REPEATS} paired rounds: no verdict"
    return section


def _ratio(loader: dict, other: dict) -> float | None:
    if loader.get("rows_per_s") and other.get("rows_per_s"):
        return round(loader["rows_per_s"] / other["rows_per_s"], 3)
    return None


def _round_ratio(r: dict, other: str) -> float | None:
    ratios = paired_ratios([r], other)
    return ratios[0] if ratios else None


def _round_run(run: dict) -> dict:
    if "error" in run:
        return {"error": run["error"]}
    out = {"seconds": round(run["seconds"], 3), "rows_per_s": round(run["rows"] / run["seconds"])}
    for key in ("ingest_seconds", "client_cpu_s", "backend_cpu_s"):
        if key in run:
            out[key] = round(run[key], 3)
    return out


# ------------------------------------------------------------------------------------------ main
def prepare_files(args, work: Path) -> dict:
    """Generate and land the data once; every server and path reads the same files."""
    started = time.perf_counter()
    small_rows = args.small_rows or args.rows // 4
    table, invalid = make_table(args.rows)
    small, _ = make_table(small_rows, seed=7)
    manifest = landing.land_table(table, BENCH_CONTRACT, PROVIDER, PERIOD, work / "landing")
    small_manifest = landing.land_table(small, BENCH_CONTRACT, PROVIDER, PERIOD, work / "landing")
    csv_path = work / "rows.csv"
    pacsv.write_csv(with_metadata(table), csv_path)
    csv_path.chmod(0o644)  # a server running as another user reads it for server-side COPY
    (work / "manifest.json").write_text(json.dumps(manifest.to_dict()))
    (work / "small-manifest.json").write_text(json.dumps(small_manifest.to_dict()))
    print(f"data: {args.rows:,} rows landed ({invalid} invalid), in {time.perf_counter() - started:.1f} s")
    return {
        "landing": work / "landing",
        "parquet": work / "landing" / manifest.path,
        "csv": csv_path,
        "manifest": work / "manifest.json",
        "small": work / "small-manifest.json",
        "invalid": invalid,
        "small_rows": small_rows,
    }


def parse_args():
    default_servers = "embedded,url" if os.environ.get("WAREHOUSE_URL") else "embedded"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--small-rows", type=int, default=None, help="second loader size for RSS (rows / 4)")
    parser.add_argument("--repeats", type=int, default=MIN_REPEATS, help=f"rounds (at least {MIN_REPEATS})")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first, per server (default 1)")
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=50_000, help="rows for insert_rows (scaled to rows/s)")
    parser.add_argument(
        "--servers", default=default_servers, help=f"comma-separated: embedded, url (default: {default_servers})"
    )
    parser.add_argument(
        "--batch-index", action="store_true", help="give both tables an index on _batch_id, as a weekly raw table has"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    for hidden in ("url", "manifest", "landing", "parquet", "csv", "local"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.worker:
        args.mode = args.worker
        print(json.dumps(worker(args)))
        return 0
    if args.repeats < MIN_REPEATS:
        print(f"warning: --repeats {args.repeats} is below {MIN_REPEATS}: figures only, no verdict", flush=True)
    register_contract()
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    servers = resolve_servers(names)
    work = Path(tempfile.mkdtemp(prefix="pe-load-bench-"))
    work.chmod(0o755)  # world-readable, so a server running as another user can read the CSV
    sections = {}
    try:
        files = prepare_files(args, work)
        print(f"measuring: {args.repeats} rounds of {', '.join(ROUND_PATHS)}, per server", flush=True)
        for name, server in servers.items():
            sections[name] = measure_server(name, server, files, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "rows": args.rows,
        "columns": len(BENCH_CONTRACT.fields),
        "invalid_rows": files["invalid"],
        "batch_rows": args.batch_rows,
        "repeats": args.repeats,
        "warmup_rounds": args.warmup,
        "batch_index": args.batch_index,
        "target_ratio": TARGET_RATIO,
        "summary": {
            name: {
                "postgresql": s["postgresql"],
                "loader_vs_adbc_ratio": s["loader_vs_adbc_ratio"],
                "paired_min": (s["loader_vs_adbc_paired"] or {}).get("min"),
                "paired_max": (s["loader_vs_adbc_paired"] or {}).get("max"),
                "loader_vs_adbc_in_memory_ratio": s["loader_vs_adbc_in_memory_ratio"],
                "verdict_ratio_at_least_0_9": s["verdict_ratio_at_least_0_9"],
                "load_average_1m": [s["load_average_1m_before"], s.get("load_average_1m_after")],
            }
            for name, s in sections.items()
        },
        "method": (
            f"{args.warmup} untimed round(s), then {args.repeats} rounds per server; each round runs "
            f"{', '.join(ROUND_PATHS)} in turn, each in its own process, the tables emptied and checkpointed "
            "before every run. Per path: median, min, max, spread (max/min). loader_vs_adbc_ratio is the median "
            "over rounds of the loader's rows/s over ADBC's in the same round (ADBC reading, casting and "
            "ingesting the same landed file); the in-memory ratio times ADBC's ingest alone. verdict: that "
            "median >= 0.9. insert_rows and the quarter-size loader run once."
        ),
        "table": "every path writes the same rows into the same table shape: the 11 columns plus the loader's "
        "4 metadata columns (_batch_id, _loaded_at, _source_file, _row_number); logged; "
        + ("both with an index on _batch_id" if args.batch_index else "no indexes")
        + " (servers.*.indexes lists them as found after the runs)",
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "shared": "other jobs may run on this machine at the same time: the 1-minute load average before "
            "and after each server's measurement (and at each round) and the machine's CPU busy share during "
            "it are recorded per server",
        },
        "servers": sections,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: results[k] for k in ("date", "rows", "repeats", "summary")}, indent=2))
    print(f"written: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
