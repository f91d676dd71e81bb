"""What every DAG file shares: the Assets (defined once), the start date, default arguments and alert callbacks,
and the small helpers its tasks call at run time."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowSkipException

from probation_evidence import settings
from probation_evidence.orchestration.alerts import DAG_RUN_FAILURE_ALERT, TASK_FAILURE_ALERT, dag_run_deadline
from probation_evidence.settings import FAMILIES

START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")

#: Emitted by each ingest DAG when its raw tables are current; the transform DAG is scheduled on them.
RAW_ASSETS = {f: Asset(name=f"raw_{f}", uri=f"x-probation-evidence://warehouse/raw/{f}") for f in FAMILIES}
#: Emitted when dbt has rebuilt the marts and its tests passed.
MARTS = Asset(name="marts", uri="x-probation-evidence://warehouse/marts")

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    # Nothing hangs: a task still running after this fails (and is retried). Every operator of a DAG,
    # Cosmos's dbt operators included, takes it from the DAG's default_args.
    "execution_timeout": timedelta(seconds=settings.task_execution_timeout_seconds()),
    # A task that failed for good (after its retries) raises an alert: a log line and the webhook.
    "on_failure_callback": [TASK_FAILURE_ALERT],
}
#: Every DAG's own on_failure_callback: a failed run raises an alert too (tests/dags/test_alert_rules.py).
DAG_FAILURE_CALLBACKS = [DAG_RUN_FAILURE_ALERT]


def run_deadline():
    """The `deadline` of the DAGs whose runs must not drag (publish, the pack-deadline check): Airflow's
    DeadlineAlert, an alert when a run is unfinished DAG_RUN_DEADLINE_MINUTES after it was queued; None while
    that setting is 0 (the default: see settings.dag_run_deadline_minutes). Called at parse time."""
    return dag_run_deadline()


#: The DAG that rebuilds the marts (and sets audit.marts_state to 'building' while it does).
TRANSFORM_DAG_ID = "transform_warehouse"


def skip_while_rebuilding(refused, ti) -> None:
    """Skip the task, instead of failing it, when the marts are 'building' because a transform run is at work.

    Under the scheduler a publish run queued by one rebuild's `marts` event can start just as the next
    rebuild (of raw data that landed later) sets 'building'. Nothing is wrong then, and that rebuild's own
    event runs publish again, so the run publishes nothing and ends without an alert. With no transform run
    queued or running, 'building' means a rebuild died part way: the caller re-raises, and the run fails.
    """
    if getattr(refused, "status", None) != "building":
        return
    active = ti.get_dr_count(dag_id=TRANSFORM_DAG_ID, states=["queued", "running"])
    if active:
        raise AirflowSkipException(
            f"the marts are being rebuilt ({active} {TRANSFORM_DAG_ID} run(s) queued or running): nothing is"
            f" published from them now; the rebuild's marts Asset event runs this DAG again when it passes"
        )


def run_date(logical_date=None, dag_run=None):
    """The date a run is for: its logical date, or, for a run triggered without one (Airflow 3 allows
    manual runs with no logical date), the date it was asked to run."""
    when = logical_date or getattr(dag_run, "run_after", None)
    if when is None:
        raise ValueError("the run has neither a logical date nor a run_after time: trigger it with a logical date")
    return when.date()
