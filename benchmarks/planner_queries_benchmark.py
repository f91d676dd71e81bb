# Over 450 lines: one self-contained script (history replication, the index on and off, timing), read as one method.
"""Planner queries at national size with five years of history: every query in sql/queries, without and
with the marts' indexes.

    .venv/bin/python benchmarks/planner_queries_benchmark.py [--years 5] [--repeats 30] [--warmup 3]

How the warehouse is built, in a database of its own (`pe_bench_planner_queries`, dropped at the end
unless `--keep`):

1. The demo pipeline runs once, as `make demo` runs it (`demo.run_pipeline`: every DAG through Airflow,
   the real loader, dbt and the pack publisher), with its state folders in a temporary directory. That
   gives the real marts and audit tables, their DDL (dbt contracts: keys, checks) and a year of data for
   the 12 providers (regions) and all 110 PDUs: 13 weeks of weekly indicators, four quarters, one
   staffing and ICT snapshot.
2. The rows are replicated back in time with `generate_series` date shifts, in SQL, into the same tables:
   every indicator gets `--years` of history for its source period (weekly: 52 weeks a year, so 260; the
   rest, quarterly ones and snapshots alike, 4 quarter ends a year, so 20). A replicated row is a copy of
   the row of the same provider, PDU and indicator in a period of the real data (cycling through them),
   with the new period and key; national values, trends and bands are copied, not recomputed. The
   submissions are replicated the same way (due dates and receipt times shift with their periods), each
   provider gets an earlier inspection three years before its planned one, with a first publication of
   its pack, so the "previous inspection" paths run at national size.
3. The indexes come from the dbt project: `dbt parse` (artifacts in a temporary folder) and the marts
   models' `config.indexes` in its manifest, as dbt-postgres creates them. If no marts model has any yet,
   the fallback list below is used; the JSON says which (`index_source`).

Then every query runs in two configurations in the same run, on the same data: without those indexes
(dropped; the contracts' primary keys stay) and with them (created, then ANALYZE). Each query is run
`--warmup` times (once when a run takes over a second), then `--repeats` times timed (wall time of
execute and fetch through `planner_queries.run`, one connection, statements never prepared, as a
planner's one-off query is), and p50/p95 are recorded, with the plan's index use (EXPLAIN) and a check
that both configurations return the same rows. A slow query stops early once `--budget-seconds` is
spent (at least 3 timed runs); the run count is recorded. Honours `WAREHOUSE_URL`; otherwise the
project's embedded PostgreSQL is started. Results go to `benchmarks/results/planner_queries.json`.
The exit status never depends on speed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from probation_evidence import settings, warehouse  # noqa: E402
from probation_evidence.local import dbt_runner, demo, embedded  # noqa: E402
from probation_evidence.planner import queries as planner_queries  # noqa: E402

BENCH_DB = "pe_bench_planner_queries"
RESULTS = ROOT / "benchmarks" / "results" / "planner_queries.json"
AS_AT = settings.DEMO_AS_AT

#: Used when no marts model in the dbt manifest configures `indexes` yet. The same shape as dbt-postgres'
#: `indexes` config (columns, unique, type), per model in the marts schema.
FALLBACK_INDEXES = [
    {
        "model": "fct_indicator_values",
        "schema": "marts",
        "columns": ["provider_id", "indicator_id", "period_end_date", "pdu_code"],
        "unique": False,
        "type": "btree",
    },
]

#: Parameters per query: the demo's as-at date, one provider, a weekly indicator (the longest history).
#: indicators_worsened_since_last_inspection runs without `since`, so each provider's baseline is its
#: previous inspection (replicated three years back).
BENCH_PARAMS: dict[str, dict] = {
    "furthest_from_national_on_staffing": {"as_at": AS_AT},
    "indicators_worsened_since_last_inspection": {"as_at": AS_AT},
    "packs_due": {"as_at": AS_AT, "weeks": 8},
    "late_or_missing_submissions": {"as_at": AS_AT, "weeks": 13},
    "outliers_beyond_998_limits": {"as_at": AS_AT},
    "indicative_ratings_compared": {"provider_id": "N07"},
    "indicator_league_table": {"indicator_id": "W02", "as_at": AS_AT},
    "provider_indicator_profile": {"provider_id": "N07", "as_at": AS_AT},
}

MARTS_TABLES = (
    "marts.fct_indicator_values",
    "marts.fct_characteristic_evidence",
    "marts.fct_standard_indicative_ratings",
    "marts.dim_inspection",
    "marts.dim_provider",
    "marts.dim_indicator",
    "marts.dim_standard",
    "audit.submissions",
    "audit.pack_publications",
)


# ---------------------------------------------------------------------------------------------- build
def connect(url: warehouse.WarehouseUrl, **kwargs):
    return psycopg.connect(url.url(), **kwargs)


def database_exists(server: warehouse.WarehouseUrl) -> bool:
    with psycopg.connect(server.url("postgres")) as conn:
        return conn.execute("select 1 from pg_database where datname = %s", [BENCH_DB]).fetchone() is not None


def recreate_database(server: warehouse.WarehouseUrl) -> warehouse.WarehouseUrl:
    return warehouse.fresh_database(server, BENCH_DB)


def bench_url(server: warehouse.WarehouseUrl) -> warehouse.WarehouseUrl:
    return dataclasses.replace(server, dbname=BENCH_DB)


def run_demo_pipeline(url: warehouse.WarehouseUrl, seed: int, tmp: Path) -> float:
    """`make demo`'s pipeline into the bench database, its state (landing, packs, Airflow) under tmp."""
    started = time.perf_counter()
    with settings.environment(**settings.state_folders(tmp)):
        demo.run_pipeline(url, AS_AT, seed)
    return time.perf_counter() - started


def columns_of(conn, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = conn.execute(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
        " order by ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


# Per indicator: the periods in the data, newest first, and the cadence (weekly when the two newest are
# 7 days apart, otherwise quarter ends). Target k (0 = the newest period) copies existing period k mod n.
# Targets start after the periods already there, so a second run adds nothing.
_TARGETS = """
with

periods as (
    select
        indicator_id,
        array_agg(distinct period_end_date order by period_end_date desc) as existing
    from marts.fct_indicator_values
    group by indicator_id
),

cadences as (
    select
        indicator_id,
        existing,
        cardinality(existing) > 1 and existing[1] - existing[2] = 7 as is_weekly
    from periods
),

targets as (
    select
        cadences.indicator_id,
        cadences.existing[1 + mod(k, cardinality(cadences.existing))] as source_period,
        case
            when cadences.is_weekly then cadences.existing[1] - 7 * k
            else cast(date_trunc('month', cadences.existing[1] + 1) - make_interval(months => 3 * k) as date) - 1
        end as target_period
    from cadences
    cross join lateral generate_series(
        cardinality(cadences.existing),
        case when cadences.is_weekly then 52 * %(years)s else 4 * %(years)s end - 1
    ) as k
)
"""

_SUBMISSION_TARGETS = """
with

periods as (
    select
        source,
        entity,
        array_agg(distinct period_end_date order by period_end_date desc) as existing
    from audit.submissions
    group by source, entity
),

targets as (
    select
        periods.source,
        periods.entity,
        periods.existing[1 + mod(k, cardinality(periods.existing))] as source_period,
        case
            when cardinality(periods.existing) > 1 and periods.existing[1] - periods.existing[2] = 7
                then periods.existing[1] - 7 * k
            else cast(date_trunc('month', periods.existing[1] + 1) - make_interval(months => 3 * k) as date) - 1
        end as target_period
    from periods
    cross join lateral generate_series(
        cardinality(periods.existing),
        case
            when cardinality(periods.existing) > 1 and periods.existing[1] - periods.existing[2] = 7
                then 52 * %(years)s
            else 4 * %(years)s
        end - 1
    ) as k
)
"""


def replicate_history(url: warehouse.WarehouseUrl, years: int) -> dict:
    """Copy the marts' and audit's dated rows back in time; rows added per table."""
    added = {}
    with connect(url) as conn:
        conn.execute(f"set role {settings.TRANSFORMER_ROLE}")  # the marts' owner, as dbt builds them
        key_expression = (
            "case when source_rows.pdu_code is null"
            " then source_rows.provider_id || '|' || to_char(targets.target_period, 'YYYY-MM-DD')"
            " || '|' || source_rows.indicator_id"
            " else source_rows.provider_id || '|' || source_rows.pdu_code || '|'"
            " || to_char(targets.target_period, 'YYYY-MM-DD') || '|' || source_rows.indicator_id end"
        )
        columns = columns_of(conn, "marts.fct_indicator_values")
        select_list = sql.SQL(", ").join(
            sql.SQL(key_expression)
            if c == "indicator_value_id"
            else sql.SQL("targets.target_period")
            if c == "period_end_date"
            else sql.SQL("source_rows.{}").format(sql.Identifier(c))
            for c in columns
        )
        statement = sql.SQL(
            "insert into marts.fct_indicator_values ({columns})" + _TARGETS + " select {select_list}"
            " from targets inner join marts.fct_indicator_values as source_rows"
            " on source_rows.indicator_id = targets.indicator_id"
            " and source_rows.period_end_date = targets.source_period"
            " on conflict do nothing"
        ).format(columns=sql.SQL(", ").join(map(sql.Identifier, columns)), select_list=select_list)
        added["marts.fct_indicator_values"] = conn.execute(statement, {"years": years}).rowcount

        # An earlier inspection of every provider, three years before its planned one.
        added["marts.dim_inspection"] = conn.execute(
            """
            insert into marts.dim_inspection
            select
                'INS-' || extract(year from fieldwork_start_date - interval '3 years') || '-' || provider_id,
                provider_id,
                inspection_type,
                cast(fieldwork_start_date - interval '3 years' as date),
                cast(fieldwork_end_date - interval '3 years' as date),
                planned_as_at_date
            from marts.dim_inspection
            where fieldwork_start_date > %(as_at)s
            on conflict do nothing
            """,
            {"as_at": AS_AT},
        ).rowcount
        conn.execute("reset role")

        added["audit.submissions"] = conn.execute(
            "insert into audit.submissions"
            + _SUBMISSION_TARGETS
            + """
            select
                submissions.source,
                submissions.entity,
                submissions.provider_id,
                targets.target_period,
                submissions.due_date + (targets.target_period - targets.source_period),
                submissions.status,
                submissions.received_at + make_interval(days => targets.target_period - targets.source_period),
                submissions.batch_id,
                submissions.detail
            from targets
            inner join audit.submissions
                on
                    submissions.source = targets.source
                    and submissions.entity = targets.entity
                    and submissions.period_end_date = targets.source_period
            on conflict do nothing
            """,
            {"years": years},
        ).rowcount
        added["audit.pack_publications"] = conn.execute(
            """
            insert into audit.pack_publications
            select
                inspections.inspection_id || '-v1',
                inspections.inspection_id,
                inspections.provider_id,
                1,
                inspections.fieldwork_start_date - 28,
                'replicated',
                'replicated',
                'first',
                cast(inspections.fieldwork_start_date - 28 as timestamp) at time zone 'UTC' + interval '7 hours'
            from marts.dim_inspection as inspections
            where inspections.fieldwork_start_date < %(as_at)s
            on conflict do nothing
            """,
            {"as_at": AS_AT},
        ).rowcount
        conn.commit()
    with connect(url, autocommit=True) as conn:
        for table in MARTS_TABLES:
            conn.execute(f"vacuum analyze {table}")
    return added


def row_counts(url: warehouse.WarehouseUrl) -> dict:
    with connect(url) as conn:
        counts = {table: conn.execute(f"select count(*) from {table}").fetchone()[0] for table in MARTS_TABLES}
        counts["fct_indicator_values_detail"] = dict(
            zip(
                ("providers", "pdus", "indicators", "periods_per_indicator", "first_period", "last_period"),
                conn.execute(
                    """
                    with periods as (
                        select indicator_id, count(distinct period_end_date) as periods
                        from marts.fct_indicator_values
                        group by indicator_id
                    )
                    select
                        count(distinct provider_id),
                        count(distinct pdu_code),
                        count(distinct indicator_id),
                        (select string_agg(distinct cast(periods as text), ', ') from periods),
                        min(period_end_date),
                        max(period_end_date)
                    from marts.fct_indicator_values
                    """
                ).fetchone(),
                strict=True,
            )
        )
        counts["fct_indicator_values_size_mb"] = round(
            conn.execute("select pg_total_relation_size('marts.fct_indicator_values')").fetchone()[0] / 2**20, 1
        )
    return counts


# -------------------------------------------------------------------------------------------- indexes
def manifest_indexes(tmp: Path) -> list[dict]:
    """The marts models' `indexes` config from a fresh `dbt parse` (artifacts under tmp)."""
    target = tmp / "dbt-target"
    with settings.environment(DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(tmp / "dbt-logs")):
        dbt_runner.run(["parse", "--quiet"])
    manifest = json.loads((target / "manifest.json").read_text())
    found = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] != "marts":
            continue
        for index in node["config"].get("indexes") or []:
            found.append({
                "model": node["alias"] or node["name"],
                "schema": node["schema"],
                "columns": list(index["columns"]),
                "unique": bool(index.get("unique")),
                "type": index.get("type") or "btree",
            })  # fmt: skip
    return sorted(found, key=lambda i: (i["model"], i["columns"]))


def set_indexes(url: warehouse.WarehouseUrl, indexes: list[dict], present: bool) -> list[str]:
    """Create (present) or drop (not present) every configured index; the names acted on."""
    names = []
    with connect(url, autocommit=True) as conn:
        conn.execute(f"set role {settings.TRANSFORMER_ROLE}")
        for index in indexes:
            existing = planner_queries.index_columns(conn, index["schema"], index["model"])
            matching = [name for name, columns in existing.items() if columns == tuple(index["columns"])]
            if present and not matching:
                name = f"bench_{index['model']}_{'_'.join(index['columns'])}"[:63]
                conn.execute(
                    sql.SQL("create {unique} index {name} on {table} using {method} ({columns})").format(
                        unique=sql.SQL("unique" if index["unique"] else ""),
                        name=sql.Identifier(name),
                        table=sql.Identifier(index["schema"], index["model"]),
                        method=sql.SQL(index["type"]),
                        columns=sql.SQL(", ").join(map(sql.Identifier, index["columns"])),
                    )
                )
                names.append(name)
            elif not present:
                for name in matching:
                    conn.execute(sql.SQL("drop index {}").format(sql.Identifier(index["schema"], name)))
                    names.append(name)
            else:
                names += matching
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier(index["schema"], index["model"])))
    return names


# -------------------------------------------------------------------------------------------- measure
def plan_summary(conn, query, params) -> dict:
    text, values = query.bind(params)
    plan = conn.execute("explain (format json) " + text, values).fetchone()[0][0]["Plan"]
    nodes: list[dict] = []

    def walk(node):
        nodes.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return {
        "indexes_used": sorted({n["Index Name"] for n in nodes if "Index Name" in n}),
        "seq_scans": sorted({n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"}),
        "total_cost": plan["Total Cost"],
    }


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))]


def measure(url: warehouse.WarehouseUrl, repeats: int, warmup: int, budget: float) -> dict:
    results = {}
    with connect(url, autocommit=True) as conn:
        conn.prepare_threshold = None  # never prepared: each run is planned afresh, as a one-off query is
        for name, query in planner_queries.load_queries().items():
            params = BENCH_PARAMS.get(name, {"as_at": AS_AT})
            first = time.perf_counter()
            result = planner_queries.run(conn, query, params)
            if time.perf_counter() - first < 1:  # a query over a second has read everything it needs once
                for _ in range(warmup - 1):
                    planner_queries.run(conn, query, params)
            timings = []
            spent_from = time.perf_counter()
            while len(timings) < repeats and (len(timings) < 3 or time.perf_counter() - spent_from < budget):
                started = time.perf_counter()
                planner_queries.run(conn, query, params)
                timings.append((time.perf_counter() - started) * 1000)
            results[name] = {
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(percentile(timings, 0.95), 2),
                "min_ms": round(min(timings), 2),
                "runs": len(timings),
                "stopped_early": len(timings) < repeats,
                "rows_returned": len(result.rows),
                "plan": plan_summary(conn, query, params),
                "_rows": result.rows,
            }
            print(
                f"  {name}: p50 {results[name]['p50_ms']} ms, p95 {results[name]['p95_ms']} ms"
                f" ({len(timings)} runs, {len(result.rows)} rows)",
                flush=True,
            )
    return results


# ----------------------------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5, help="history to replicate for every indicator")
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per query and configuration")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    parser.add_argument("--budget-seconds", type=float, default=60.0, help="per query and configuration")
    parser.add_argument("--seed", type=int, default=settings.DEMO_SEED)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help=f"leave the {BENCH_DB} database for a closer look")
    parser.add_argument(
        "--reuse", action="store_true", help=f"measure the {BENCH_DB} database a --keep run left (no rebuild)"
    )
    args = parser.parse_args()

    server = embedded.resolve(start=True)
    print(f"warehouse: {server.masked} (database {BENCH_DB})", flush=True)
    build: dict = {"reused": False}
    with tempfile.TemporaryDirectory(prefix="bench-planner-queries-") as tmp_name:
        tmp = Path(tmp_name)
        if args.reuse and database_exists(server):
            url = bench_url(server)
            build["reused"] = True
            print("reusing the database a --keep run left (replication adds what is missing)", flush=True)
        else:
            url = recreate_database(server)
            print("running the demo pipeline into it (every DAG through Airflow, about 4 minutes)", flush=True)
            build["demo_pipeline_seconds"] = round(run_demo_pipeline(url, args.seed, tmp), 1)
            build["rows_from_the_demo"] = row_counts(url)
        started = time.perf_counter()
        build["rows_added_by_replication"] = replicate_history(url, args.years)  # idempotent
        build["replication_seconds"] = round(time.perf_counter() - started, 1)
        counts = row_counts(url)
        print(f"marts.fct_indicator_values: {counts['marts.fct_indicator_values']:,} rows", flush=True)
        configured = manifest_indexes(tmp)
        indexes, source = (configured, "dbt manifest") if configured else (FALLBACK_INDEXES, "fallback")

    configurations = {}
    for label, present in (("without_indexes", False), ("with_indexes", True)):
        acted_on = set_indexes(url, indexes, present)
        print(f"{label.replace('_', ' ')} ({'created or kept' if present else 'dropped'}: {acted_on})", flush=True)
        configurations[label] = measure(url, args.repeats, args.warmup, args.budget_seconds)
    same_rows = {
        name: configurations["without_indexes"][name].pop("_rows") == configurations["with_indexes"][name].pop("_rows")
        for name in configurations["with_indexes"]
    }
    ratios = {
        name: {
            "p50": round(configurations["without_indexes"][name]["p50_ms"] / max(with_["p50_ms"], 0.001), 1),
            "p95": round(configurations["without_indexes"][name]["p95_ms"] / max(with_["p95_ms"], 0.001), 1),
        }
        for name, with_ in configurations["with_indexes"].items()
    }
    with connect(url) as conn:
        server_version = conn.execute("show server_version").fetchone()[0]
    result = {
        "benchmark": "planner_queries",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "server": server.masked,
            "server_version": server_version,
        },
        "warehouse": {
            "database": BENCH_DB,
            "how": (
                "the demo pipeline (demo.run_pipeline: every DAG through Airflow, real loader, dbt and publisher)"
                " into its own database, then every dated mart and audit row replicated back in time with"
                " generate_series date shifts into the same dbt-built tables (DDL and contracts kept):"
                f" {args.years} years per indicator (weekly 52 a year, others 4 quarter ends a year), copies of"
                " real rows of the same provider, PDU and indicator (national values, trends and bands copied,"
                " not recomputed); submissions likewise; each provider's inspection repeated 3 years earlier"
                " with a first pack publication"
            ),
            "years": args.years,
            "as_at": AS_AT.isoformat(),
            "build": build,
            "row_counts": counts,
        },
        "settings": {
            "repeats": args.repeats,
            "warmup": args.warmup,
            "budget_seconds_per_query": args.budget_seconds,
            "timing": "wall time of planner_queries.run (execute, fetch, column check); statements never prepared",
            "params": {name: {k: str(v) for k, v in p.items()} for name, p in BENCH_PARAMS.items()},
        },
        "index_source": source,
        "indexes": indexes,
        "configurations": configurations,
        "ratio_without_over_with": ratios,
        "same_rows_both_ways": same_rows,
        "slowest_with_indexes_p95_ms": max(r["p95_ms"] for r in configurations["with_indexes"].values()),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"{'query':<45} {'without p50/p95 ms':>20} {'with p50/p95 ms':>18} {'ratio p50':>9}")
    for name, with_ in configurations["with_indexes"].items():
        without = configurations["without_indexes"][name]
        print(
            f"{name:<45} {without['p50_ms']:>9} / {without['p95_ms']:<8} {with_['p50_ms']:>7} / {with_['p95_ms']:<8}"
            f" {ratios[name]['p50']:>8}x"
        )
    print(f"indexes from: {source}; same rows both ways: {all(same_rows.values())}")
    print(f"wrote {args.output}")
    if not args.keep:
        warehouse.drop_database(server, BENCH_DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
