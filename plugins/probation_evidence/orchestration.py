"""What the DAG files share: Assets (defined once), default arguments, and reading Airflow connections
at run time (never at parse time).
"""

from __future__ import annotations

import sys
from datetime import timedelta

import pendulum
from airflow.sdk import Asset

from probation_evidence import settings
from probation_evidence.alerts import DAG_RUN_FAILURE_ALERT, TASK_FAILURE_ALERT, dag_run_deadline
from probation_evidence.settings import FAMILIES, api_conn_id

START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")

#: Emitted by each ingest DAG when its raw tables are current; the transform DAG is scheduled on them.
RAW_ASSETS = {f: Asset(name=f"raw_{f}", uri=f"x-probation-evidence://warehouse/raw/{f}") for f in FAMILIES}
RAW_STAFFING = RAW_ASSETS["staffing"]
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


def warehouse_url() -> str:
    """The warehouse connection as a libpq URL (credentials live only in the Airflow connection)."""
    from airflow.sdk import Connection

    return connection_url(Connection.get(settings.WAREHOUSE_CONN_ID))


def connection_url(conn) -> str:
    """An Airflow Postgres connection as a libpq URL: its libpq parameters (`sslmode`, `sslrootcert`, ...,
    the query of the URI it was made from) kept, other extras dropped, and the session limits added."""
    from probation_evidence.warehouse import WarehouseUrl, libpq_extras

    return WarehouseUrl(
        host=conn.host or "127.0.0.1",
        port=conn.port or 5432,
        user=conn.login or "postgres",
        password=conn.password or "",
        dbname=conn.schema or "probation_evidence",
        params=tuple(libpq_extras(conn.extra_dejson).items()),
    ).url()


#: The DAG that rebuilds the marts (and sets audit.marts_state to 'building' while it does).
TRANSFORM_DAG_ID = "transform_warehouse"


def skip_while_rebuilding(refused, ti) -> None:
    """Skip the task, instead of failing it, when the marts are 'building' because a transform run is at work.

    Under the scheduler a publish run queued by one rebuild's `marts` event can start just as the next
    rebuild (of raw data that landed later) sets 'building'. Nothing is wrong then, and that rebuild's own
    event runs publish again, so the run publishes nothing and ends without an alert. With no transform run
    queued or running, 'building' means a rebuild died part way: the caller re-raises, and the run fails.
    """
    from airflow.sdk.exceptions import AirflowSkipException

    if getattr(refused, "status", None) != "building":
        return
    active = ti.get_dr_count(dag_id=TRANSFORM_DAG_ID, states=["queued", "running"])
    if active:
        raise AirflowSkipException(
            f"the marts are being rebuilt ({active} {TRANSFORM_DAG_ID} run(s) queued or running): nothing is"
            f" published from them now; the rebuild's marts Asset event runs this DAG again when it passes"
        )


def api_endpoint(conn_id: str) -> tuple[str, str]:
    """(base URL, token) of a provider API connection."""
    from airflow.sdk import Connection

    conn = Connection.get(conn_id)
    scheme = conn.schema or "http"
    return f"{scheme}://{conn.host}:{conn.port}", conn.password or ""


def run_date(logical_date=None, dag_run=None):
    """The date a run is for: its logical date, or, for a run triggered without one (Airflow 3 allows
    manual runs with no logical date), the date it was asked to run."""
    when = logical_date or getattr(dag_run, "run_after", None)
    if when is None:
        raise ValueError("the run has neither a logical date nor a run_after time: trigger it with a logical date")
    return when.date()


def mapped_results(results) -> list:
    """The values of a mapped task's results, as a list.

    Indexed rather than iterated: iterating Airflow's lazy sequence probes one item past the end, which
    logs a spurious "XCom not found" error in every run.
    """
    return [results[i] for i in range(len(results))]


def select_providers(known: list[str], asked: list[str]) -> list[str]:
    """The providers a run ingests: every one, or those its `providers` param names (all of them known)."""
    if not asked:
        return known
    unknown = sorted(set(asked) - set(known))
    if unknown:
        raise ValueError(f"unknown provider codes {unknown}: the providers are {', '.join(known)}")
    return [code for code in known if code in set(asked)]


def ingest_dag(family: str, schedule: str, doc_md: str):
    """Build the ingest DAG of one source family (one per file in dags/, each calling this).

    extract (mapped over providers) -> load (mapped) -> record submissions (emits the family's Asset) ->
    check the run. A provider whose extract or load fails does not stop the others: its slices are
    recorded as failed in audit.submissions, the Asset is still emitted for what did load, and the final
    check fails the run so that the failure is seen and can be retried.
    """
    from airflow.sdk import Param, dag, task

    @dag(
        dag_id=f"ingest_{family}",
        schedule=schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        on_failure_callback=DAG_FAILURE_CALLBACKS,
        tags=["ingest", family],
        doc_md=doc_md,
        params={
            "providers": Param(
                [],
                type="array",
                items={"type": "string"},
                description='Provider codes to ingest (e.g. ["N07"] to rerun one provider); empty: every provider.',
            ),
        },
    )
    def ingest():
        @task
        def list_providers(params=None) -> list[str]:
            from probation_evidence.ingest import provider_ids

            return select_providers(provider_ids(), (params or {}).get("providers") or [])

        @task(max_active_tis_per_dagrun=4, multiple_outputs=False)
        def extract_provider(provider_id: str, logical_date=None, dag_run=None) -> dict:
            from probation_evidence import ingest, lineage

            as_at = run_date(logical_date, dag_run)
            base_url = None
            if ingest.transport(family) == "api":
                base_url, token = api_endpoint(api_conn_id(family))
                extracted = ingest.extract_api(family, provider_id, as_at, base_url, token)
            else:
                extracted = ingest.extract_files(family, provider_id, as_at)
            lineage.report_extract(extracted, base_url)  # source -> landing zone, per entity
            return extracted

        @task(max_active_tis_per_dagrun=4, multiple_outputs=False)
        def load_provider(extracted: dict) -> dict:
            from probation_evidence import lineage
            from probation_evidence.ingest import load_extracted

            loaded = load_extracted(warehouse_url(), extracted)
            lineage.report_load(loaded)  # landing zone -> raw tables
            return loaded

        @task(outlets=[RAW_ASSETS[family]], trigger_rule="all_done", multiple_outputs=False)
        def record_submissions(outcomes, logical_date=None, dag_run=None, params=None) -> dict:
            from probation_evidence import ingest, lineage

            as_at = run_date(logical_date, dag_run)
            # Only the providers this run ingested: the others' slices are not this run's to mark failed.
            providers = select_providers(ingest.provider_ids(), (params or {}).get("providers") or [])
            results = mapped_results(outcomes)
            summary = ingest.record_submissions(warehouse_url(), family, as_at, results, providers)
            lineage.report_submissions()  # load batches -> submission register
            ingest.analyze_loaded_tables(warehouse_url(), results)  # before the Asset starts the transform
            return summary

        @task(trigger_rule="all_done")
        def check_run(summary: dict) -> None:
            """Fail the run, after everything that could load has, if any provider's slice failed."""
            if summary is None:
                raise RuntimeError("recording submissions failed: see record_submissions")
            if summary["errors"]:
                raise RuntimeError(f"{len(summary['errors'])} slices failed: " + "; ".join(summary["errors"][:10]))

        loaded = load_provider.expand(extracted=extract_provider.expand(provider_id=list_providers()))
        check_run(record_submissions(loaded))

    built = ingest()
    # The DAG belongs to the file that called this factory, not to this module: Airflow re-parses
    # `fileloc` to run a task, and the house rules check that the dag_id is the file's name.
    built.fileloc = sys._getframe(1).f_code.co_filename
    return built
