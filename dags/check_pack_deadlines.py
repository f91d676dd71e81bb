"""
### Check that every imminent inspection has a published evidence pack

Daily at 07:30 UTC (after `publish_evidence_packs`' 07:00 run). `find_late_packs` lists the inspections in
`marts.dim_inspection` whose fieldwork starts on the run's date or within `PACK_DEADLINE_DAYS` (default 14)
days after it and for which `audit.pack_publications` records no pack at all. Packs are normally published
`PACK_LEAD_DAYS` (56) days ahead, so an inspection found here has missed its pack by weeks.

`alert_late_packs` raises one alert per such inspection (a log line beginning `ALERT pack_deadline:` and a
POST to `ALERT_WEBHOOK_URL`: inspection id, provider, fieldwork start, days left), then fails, naming them,
so the run is red until the packs are published. It is not retried (a retry would only repeat the alerts);
the next day's run checks again.

Why a daily check and not Airflow's DeadlineAlert: a DeadlineAlert's deadline is an interval from one DAG
run (its logical date, when it was queued, a fixed time, or the average runtime), and it fires when that
run is still unfinished; the deadline here belongs to each inspection, is read from data that changes
daily (an inspection added or moved), and is missed when a pack does not exist, not when a run is slow.
Airflow's DeadlineAlert is used for what it fits: a run of this DAG still unfinished
`DAG_RUN_DEADLINE_MINUTES` after it was queued raises an alert too.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from probation_evidence import settings
from probation_evidence.orchestration import alerts
from probation_evidence.orchestration.connections import warehouse_url
from probation_evidence.orchestration.defaults import (
    DAG_FAILURE_CALLBACKS,
    DEFAULT_ARGS,
    START_DATE,
    run_date,
    run_deadline,
)


@dag(
    schedule="30 7 * * *",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=DAG_FAILURE_CALLBACKS,
    deadline=run_deadline(),
    tags=["alerts", "packs"],
    doc_md=__doc__,
)
def check_pack_deadlines():
    @task
    def find_late_packs(logical_date=None, dag_run=None) -> list[dict]:
        """Inspections starting within PACK_DEADLINE_DAYS of the run's date with no pack published."""
        return alerts.find_late_packs(warehouse_url(), run_date(logical_date, dag_run))

    # Not retried: a retry would send every alert again; tomorrow's run checks again.
    @task(retries=0)
    def alert_late_packs(late: list[dict], logical_date=None, dag_run=None) -> None:
        """One alert per late inspection, then fail (naming them) so the run is red."""
        alerts.alert_late_packs(
            late, run_date(logical_date, dag_run), settings.pack_deadline_days(), dag_run.dag_id, dag_run.run_id
        )

    alert_late_packs(find_late_packs())


check_pack_deadlines()
