"""`probation-evidence`: the command line for engineers and planners.

probation-evidence demo                      run the whole pipeline through Airflow
probation-evidence warehouse start|stop|status|url|psql|bootstrap [--pipeline-login NAME]
probation-evidence airflow up|down|status     Airflow's scheduler, API server, dag-processor, triggerer
probation-evidence airflow -- <args>         the project's local Airflow (connections set)
probation-evidence seeds [--check]           regenerate the framework and reference seeds
probation-evidence pack --inspection ID [--provider CODE] [--date D]   one evidence pack (HTML, PDF, CSV)
probation-evidence pack --due [--date D] [--lead-days N]                every pack due in the lead window
probation-evidence calibrate [--held-out SEED ...]                       indicative bands against the truth
probation-evidence query --list | NAME [--param NAME=VALUE ...] [--format table|csv|json]   planners' questions
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from probation_evidence import settings, warehouse
from probation_evidence.local import airflow_env, calibration, demo, embedded, stack
from probation_evidence.packs import publish
from probation_evidence.planner import queries as planner_queries
from probation_evidence.planner.query_files import QueryParameterError
from probation_evidence.reference import framework


def _warehouse(args: argparse.Namespace) -> int:
    server = embedded.EmbeddedWarehouse()
    if args.action == "start":
        url = embedded.resolve(start=True)
        print(f"warehouse running: {url.masked}")
    elif args.action == "stop":
        stopped = server.stop()
        print("embedded warehouse stopped" if stopped else "embedded warehouse was not running")
    elif args.action == "status":
        running = server.is_running()
        print(f"embedded warehouse: {'running at ' + server.url().masked if running else 'not running'}")
        return 0 if running else 3
    elif args.action == "url":
        # Prints the full URL, password included: for the user's own shell, never for logs.
        print(embedded.resolve(start=False).url())
    elif args.action == "psql":
        url = embedded.resolve(start=False)
        psql = str(embedded.bin_dir() / "psql")
        # The URL's libpq parameters (sslmode, sslrootcert, ...) reach psql as its PG* variables.
        env = dict(os.environ, **warehouse.libpq_environment(dict(url.params)), PGPASSWORD=url.password)
        os.execvpe(psql, [psql, "-h", url.host, "-p", str(url.port), "-U", url.user, url.dbname], env)
    elif args.action == "bootstrap":
        url = embedded.resolve(start=True)
        applied = warehouse.bootstrap(url)
        print("applied: " + ", ".join(applied))
        if args.pipeline_login:
            password = os.environ.get(settings.PIPELINE_PASSWORD_ENV, "")
            warehouse.create_pipeline_login(url, args.pipeline_login, password)
            print(f"pipeline login {args.pipeline_login}: " + ", ".join(settings.PIPELINE_ROLES))
    return 0


def _demo(args: argparse.Namespace) -> int:
    demo.main(as_at=args.as_at, seed=args.seed, size=args.size, history_years=args.history_years)
    return 0


def _airflow(args: argparse.Namespace) -> int:
    argv = args.args[1:] if args.args[:1] == ["--"] else args.args
    if argv in (["up"], ["down"], ["status"]):
        return _stack(argv[0])
    running = stack.current()
    url = embedded.resolve(start=True)
    # With the stack up, a command (backfill create, dags trigger, tasks clear) sees exactly its settings.
    env = stack.environment(url, running.port) if running else airflow_env.environment(url)
    return airflow_env.airflow(argv, env, check=False).returncode


def _stack(action: str) -> int:
    """`airflow up|down|status`: the scheduler, API server, dag-processor and triggerer in the background."""
    if action == "down":
        stack.down()
        return 0
    if action == "status":
        running = stack.current()
        for name, pid in stack.status().items():
            print(f"  {name:<14} {'running, pid ' + str(pid) if pid else 'not running'}  (log: {stack.log_file(name)})")
        print(f"Airflow UI: {running.url}" if running else "the Airflow stack is not running (start it: make up)")
        return 0 if running else 3
    own_warehouse = not os.environ.get("WAREHOUSE_URL")
    print("==> starting the embedded warehouse" if own_warehouse else "==> using the warehouse in WAREHOUSE_URL")
    running = stack.up(embedded.resolve(start=True))
    print()
    for line in stack.login_message(running):
        print(line)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    if args.held_out or args.combine:
        if args.held_out:
            combined = demo.run_held_out(args.held_out, settings.DEMO_AS_AT, args.out)
        else:
            combined = calibration.combine([json.loads(path.read_text()) for path in args.combine])
        json_path, md_path = calibration.write_combined(combined, args.out)
        print(calibration.render_combined_markdown(combined))
        print(f"written: {json_path} and {md_path}")
        return 0
    result = calibration.calibrate(embedded.resolve(start=False).url(), args.seed or settings.simulator_seed())
    json_path, md_path = calibration.write(result, args.out)
    print(calibration.render_markdown(result))
    print(f"written: {json_path} and {md_path}")
    return 0


def _pack(args: argparse.Namespace) -> int:
    url = embedded.resolve(start=False).url()
    # Never from half-built or untested marts, as the publish DAG. No override: the last tested version of
    # every pack is still on disk and in audit.pack_publications, so nobody needs one from untested marts.
    publish.check_marts_publishable(url)
    if args.due:
        due = publish.due_inspections(url, args.date, args.lead_days)
        ids = [row["inspection_id"] for row in due]
        if not ids:
            print(f"no inspection starts fieldwork within {args.lead_days or settings.lead_days()} days of {args.date}")
            return 0
    else:
        ids = [args.inspection]
    print(f"publishing {len(ids)} pack(s) to {args.out}", file=sys.stderr, flush=True)
    publish.publish_packs(
        url, ids, args.date, args.out, provider_id=args.provider, republish=args.republish,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )  # fmt: skip
    return 0


def _seeds(args: argparse.Namespace) -> int:
    return framework.main(["--check"] if args.check else [])


def _parse_assignments(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise QueryParameterError(f"--param {pair!r}: write --param name=value")
        if name.strip() in values:
            raise QueryParameterError(f"--param {name.strip()!r} is given twice")
        values[name.strip()] = value
    return values


def _query(args: argparse.Namespace) -> int:
    """`query`: list the planners' queries, or run one (read-only) and print its rows."""
    if args.list or not args.name:
        for query in planner_queries.load_queries().values():
            print(planner_queries.describe(query))
        return 0
    query = planner_queries.get_query(args.name)
    params = _parse_assignments(args.param or [])
    query.bind(params)  # parameter errors before any connection is made
    result = planner_queries.run_url(embedded.resolve(start=False).url(), query, params)
    print(planner_queries.format_result(result, args.format))
    if args.format == "table":
        bound = ", ".join(f"{k}={planner_queries.cell_text(v) or 'null'}" for k, v in result.params.items())
        print(f"{query.name}: {query.question}" + (f" [{bound}]" if bound else ""), file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="probation-evidence", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    wh = sub.add_parser("warehouse", help="the embedded warehouse, or the one in WAREHOUSE_URL")
    wh.add_argument("action", choices=["start", "stop", "status", "url", "psql", "bootstrap"])
    wh.add_argument(
        "--pipeline-login",
        metavar="NAME",
        help="with bootstrap: create (or reset) the pipeline's own login, a member of the loader, transformer and "
        f"publisher roles only; its password is read from ${settings.PIPELINE_PASSWORD_ENV}",
    )
    wh.set_defaults(func=_warehouse)

    dm = sub.add_parser("demo", help="run the whole pipeline through Airflow on simulated providers")
    dm.add_argument("--as-at", type=date.fromisoformat, default=settings.DEMO_AS_AT)
    dm.add_argument("--seed", type=int, default=None)
    dm.add_argument(
        "--size", choices=("small", "national"), default="small",
        help="simulated providers' size: small (the default, ~2k staff) or national (~20k staff, 12 regions)",
    )  # fmt: skip
    dm.add_argument(
        "--history-years", type=int, default=None,
        help="years of history to load (default: the standard windows for small, one year for national)",
    )  # fmt: skip
    dm.set_defaults(func=_demo)

    af = sub.add_parser(
        "airflow",
        help="up|down|status: the Airflow stack in the background; else an airflow command in the project's "
        "environment, e.g. airflow -- backfill create --dag-id ... --from-date ... --to-date ...",
    )
    af.add_argument("args", nargs=argparse.REMAINDER)
    af.set_defaults(func=_airflow)

    cal = sub.add_parser("calibrate", help="score the indicative bands against the simulator's hidden truth")
    cal.add_argument("--seed", type=int, default=None, help="the simulator seed the data came from")
    cal.add_argument("--out", type=Path, default=settings.project_root() / "output" / "calibration")
    pool = cal.add_mutually_exclusive_group()
    pool.add_argument(
        "--held-out", type=int, nargs="+", metavar="SEED",
        help="run the whole pipeline on fresh data for each seed (own database and folders) and pool the scores",
    )  # fmt: skip
    pool.add_argument("--combine", type=Path, nargs="+", metavar="JSON", help="pool calibration.json files")
    cal.set_defaults(func=_calibrate)

    pack = sub.add_parser("pack", help="publish evidence packs (HTML, PDF and CSV) from the marts")
    which = pack.add_mutually_exclusive_group(required=True)
    which.add_argument("--inspection", help="the inspection id, e.g. INS-2026-N07")
    which.add_argument("--due", action="store_true", help="every inspection whose fieldwork starts within the window")
    pack.add_argument("--provider", help="the provider code; checked against the inspection's provider")
    pack.add_argument(
        "--date", type=date.fromisoformat, default=date.today(),
        help="run date: the pack shows the latest data on or before it (default today)",
    )  # fmt: skip
    pack.add_argument("--lead-days", type=int, default=None, help="lead window in days for --due (default 56)")
    pack.add_argument(
        "--republish", action="store_true",
        help="publish a new version even when the numbers are unchanged (otherwise only changed data does)",
    )  # fmt: skip
    pack.add_argument("--out", type=Path, default=settings.packs_dir())
    pack.set_defaults(func=_pack)

    seeds = sub.add_parser("seeds", help="regenerate the framework and reference dbt seeds")
    seeds.add_argument("--check", action="store_true", help="fail if the committed seeds are stale")
    seeds.set_defaults(func=_seeds)

    query = sub.add_parser(
        "query",
        help="run a planner's question from sql/queries (--list shows them)",
        description="Run one of the planners' questions in sql/queries against the warehouse (read-only).",
    )
    query.add_argument("name", nargs="?", help="the query's name (its file name without .sql)")
    query.add_argument("--list", action="store_true", help="list the queries, their questions and parameters")
    query.add_argument(
        "--param", "-p", action="append", metavar="NAME=VALUE",
        help="a parameter, e.g. --param as_at=2026-09-30 (repeat for more; defaults fill the rest)",
    )  # fmt: skip
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.set_defaults(func=_query)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a clear one-line error for the user; tracebacks with --debug-style env
        if os.environ.get("PROBATION_EVIDENCE_DEBUG"):
            raise
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
