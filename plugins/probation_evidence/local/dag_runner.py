"""Run several DAGs, one after another, in ONE process, exactly as `airflow dags test` runs each.

`airflow dags test` pays ~10 s per call to import Airflow and start its in-process execution API; the demo
runs nine DAGs, so it imports once here and calls the same `DAG.test()` for each. Stops at the first
failed run.

    python -m probation_evidence.local.dag_runner 2026-09-30 ingest_staffing transform_warehouse ...
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print(
            "usage: python -m probation_evidence.local.dag_runner <logical date> <dag_id> [<dag_id> ...]",
            file=sys.stderr,
        )
        return 2
    # Airflow is imported here, after the caller has set AIRFLOW_HOME and the connections in the environment:
    # Airflow reads its configuration once, when first imported, and a process may import this module first.
    import pendulum
    from airflow.utils.cli import get_bagged_dag
    from airflow.utils.state import DagRunState

    logical_date = pendulum.parse(argv[0], tz="UTC")
    if not isinstance(logical_date, pendulum.DateTime):
        print(f"the logical date must be a date or a date and time, not {argv[0]!r}", file=sys.stderr)
        return 2
    for dag_id in argv[1:]:
        print(f"==> running DAG {dag_id} for {logical_date.date()}", flush=True)
        started = time.monotonic()
        dag = get_bagged_dag(bundle_names=None, dag_id=dag_id)
        run = dag.test(logical_date=logical_date)
        if run is None or run.state != DagRunState.SUCCESS:
            print(f"==> DAG {dag_id} failed; its task logs are above.", flush=True)
            return 1
        print(f"==> {dag_id} succeeded in {time.monotonic() - started:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
