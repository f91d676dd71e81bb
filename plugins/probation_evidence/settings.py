"""Where things live and which settings the pipeline reads from the environment.

Every setting has a documented default so that a fresh clone runs with nothing set. Nothing here touches
the network or the database: this module is imported by DAG files at parse time.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

#: The demo's fixed "as-at" date and simulator seed: the demo is reproducible from these two values.
DEMO_AS_AT = date(2026, 9, 30)
DEMO_SEED = 20260930

#: The source families, each with its own ingest DAG (`dags/ingest_<family>.py`), in the order of
#: `sources.contracts.FAMILIES`, which derives them from the contracts: a unit test holds the two equal (DAG
#: files read this at parse time, where loading every contract is not wanted). Here rather than in
#: `orchestration`, so the project's own commands can name the DAGs without importing Airflow (which would
#: create ~/airflow before they have pointed AIRFLOW_HOME into the checkout).
FAMILIES = ("staffing", "workload", "ict", "feedback", "services", "governance", "planning")

#: Airflow connection ids: the single home of credentials inside Airflow.
WAREHOUSE_CONN_ID = "warehouse"


def api_conn_id(family: str) -> str:
    """Each API family's systems have their own Airflow connection: `<family>_api`."""
    return f"{family}_api"


#: Database roles created by sql/bootstrap.
LOADER_ROLE = "warehouse_loader"
TRANSFORMER_ROLE = "warehouse_transformer"
PUBLISHER_ROLE = "warehouse_publisher"
#: The roles the pipeline's own login acts through (SET ROLE), one per step.
PIPELINE_ROLES = (LOADER_ROLE, TRANSFORMER_ROLE, PUBLISHER_ROLE)
#: Where `warehouse bootstrap --pipeline-login` reads that login's password (never from the command line).
PIPELINE_PASSWORD_ENV = "PIPELINE_PASSWORD"  # noqa: S105 (the name of a variable, not a password)

#: How far ahead of fieldwork a pack is published (issue: default 8 weeks).
DEFAULT_LEAD_DAYS = 56


def project_root() -> Path:
    """The repository root: `PROBATION_EVIDENCE_HOME`, else the folder above `plugins/`."""
    override = os.environ.get("PROBATION_EVIDENCE_HOME")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


def landing_dir() -> Path:
    return Path(os.environ.get("LANDING_DIR", project_root() / "data" / "landing"))


def drops_dir() -> Path:
    """Where provider systems drop files (the simulator writes here in the demo)."""
    return Path(os.environ.get("DROPS_DIR", project_root() / "data" / "drops"))


def packs_dir() -> Path:
    return Path(os.environ.get("PACKS_DIR", project_root() / "output" / "packs"))


def dbt_project_dir() -> Path:
    return project_root() / "dbt_project"


def sql_dir() -> Path:
    return project_root() / "sql"


def state_dir() -> Path:
    """Git-ignored folder for the embedded warehouse, Airflow's home and run state."""
    return Path(os.environ.get("PROBATION_EVIDENCE_STATE", project_root() / ".state"))


def simulator_seed() -> int:
    return int(os.environ.get("SIMULATOR_SEED", DEMO_SEED))


def lead_days() -> int:
    return int(os.environ.get("PACK_LEAD_DAYS", DEFAULT_LEAD_DAYS))


@contextmanager
def environment(**variables: str) -> Generator[None]:
    """Set environment variables for the block, then put back exactly what was there before."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def state_folders(root: Path) -> dict[str, str]:
    """The pipeline's own folders (state, landing zone, file drops, packs) under one root folder, for a run
    that must leave the project's folders alone (tests, benchmarks, held-out calibration)."""
    return {
        "PROBATION_EVIDENCE_STATE": str(root / "state"),
        "LANDING_DIR": str(root / "landing"),
        "DROPS_DIR": str(root / "drops"),
        "PACKS_DIR": str(root / "packs"),
    }


#: How many years of history each ingest run looks back over; unset, the standard windows apply (13 weeks, 12
#: months, 4 quarters). A first load of a provider's history, the national demo (one year) and the scale
#: benchmark (1 to 8 years) set it.
HISTORY_YEARS_ENV = "PROBATION_EVIDENCE_HISTORY_YEARS"


def history_years() -> int | None:
    """Years of history each run expects (`PROBATION_EVIDENCE_HISTORY_YEARS`), or None for the standard windows."""
    value = os.environ.get(HISTORY_YEARS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{HISTORY_YEARS_ENV} must be a whole number of years, 1 or more (got {value!r})")
    return int(value)


def api_max_pages() -> int:
    """Pages fetched for one provider API entity before its pagination is declared endless (default 10,000:
    five million records at the default page size)."""
    return int(os.environ.get("API_MAX_PAGES", 10_000))


def api_entity_deadline_seconds() -> float:
    """Overall time allowed to fetch one API entity, every page, retry wait and body byte included (default
    300): a server trickling its body never trips a per-read timeout, this deadline it does."""
    return float(os.environ.get("API_ENTITY_DEADLINE_SECONDS", 300))


def api_max_response_bytes() -> int:
    """Largest API response body accepted, after decompression (default 64 MiB; a 1,000-record page is
    well under 1 MiB)."""
    return int(os.environ.get("API_MAX_RESPONSE_BYTES", 64 * 1024 * 1024))


def drop_settle_seconds() -> float:
    """How long a dropped file must go unmodified before it is read (default 120 s): a file modified more
    recently may still be being written (an upload in progress), so it waits for a later run."""
    return float(os.environ.get("DROP_SETTLE_SECONDS", 120))


def drop_max_bytes() -> int:
    """Largest CSV or XLSX drop file read (default 256 MiB): both are read whole into memory, so a bigger
    file is refused (its slice is recorded failed) rather than risk the worker. Parquet is bounded by its
    unpacked size instead (drop_max_uncompressed_bytes)."""
    return int(os.environ.get("DROP_MAX_BYTES", 256 * 1024 * 1024))


def drop_max_uncompressed_bytes() -> int:
    """Largest total uncompressed size of an XLSX (a zip archive) or a Parquet file (its row groups) read
    (default 1 GiB): a zip bomb, or a Parquet file that compresses a huge table small, is refused before it
    is unpacked."""
    return int(os.environ.get("DROP_MAX_UNCOMPRESSED_BYTES", 1024 * 1024 * 1024))


def warehouse_connect_timeout_seconds() -> int:
    """Seconds a warehouse connection may take to be made before it fails (default 10); libpq's
    `connect_timeout`, set on every URL the pipeline builds unless WAREHOUSE_URL sets it."""
    return int(os.environ.get("WAREHOUSE_CONNECT_TIMEOUT_SECONDS", 10))


def warehouse_statement_timeout_seconds() -> float:
    """Longest any one statement may run before the server cancels it (default 1800: 30 minutes, over
    a hundred times the slowest statement of a national-size dbt build); 0 leaves the server's setting."""
    return float(os.environ.get("WAREHOUSE_STATEMENT_TIMEOUT_SECONDS", 1800))


def warehouse_lock_timeout_seconds() -> float:
    """Longest a statement waits for a lock (default 60) before it fails: a loader or dbt model stuck
    behind another session's lock fails and is retried rather than waiting for ever; 0 leaves the server's."""
    return float(os.environ.get("WAREHOUSE_LOCK_TIMEOUT_SECONDS", 60))


def task_execution_timeout_seconds() -> float:
    """Longest any Airflow task of the pipeline may run before Airflow fails it (default 3600); every
    DAG's default arguments carry it, so a hung task fails, and is retried, instead of holding its slot."""
    return float(os.environ.get("TASK_EXECUTION_TIMEOUT_SECONDS", 3600))


#: Alerts (probation_evidence.orchestration.alerts): where failures and late packs are reported.
DEFAULT_PACK_DEADLINE_DAYS = 14


def alert_webhook_url() -> str | None:
    """Where alerts are POSTed as JSON (`ALERT_WEBHOOK_URL`, http or https); unset or empty, alerts are only
    logged. Treated as a secret: many webhook URLs carry a token in their path, so only its scheme, host and
    port are ever logged."""
    return os.environ.get("ALERT_WEBHOOK_URL") or None


def alert_webhook_token() -> str | None:
    """Sent as `Authorization: Bearer <token>` with every alert when set (`ALERT_WEBHOOK_TOKEN`); never
    logged and never in an alert."""
    return os.environ.get("ALERT_WEBHOOK_TOKEN") or None


def alert_webhook_timeout_seconds() -> float:
    """Longest an alert's POST may take, connecting and answering included (default 5): a webhook that is
    down or slow is logged and given up on; it never fails or holds up the task that raised the alert."""
    return float(os.environ.get("ALERT_WEBHOOK_TIMEOUT_SECONDS", 5))


def pack_deadline_days() -> int:
    """An inspection whose fieldwork starts within this many days (default 14) with no pack published
    raises an alert from the daily `check_pack_deadlines` DAG. Packs are normally published `lead_days()`
    (56) days ahead, so this is the last call, not the plan."""
    return int(os.environ.get("PACK_DEADLINE_DAYS", DEFAULT_PACK_DEADLINE_DAYS))


def dag_run_deadline_minutes() -> float:
    """A run of `publish_evidence_packs` or `check_pack_deadlines` still unfinished this many minutes after
    it was queued raises an alert (Airflow's DeadlineAlert, run by the triggerer). Read when the DAG files
    are parsed. 0, the default, attaches no DeadlineAlert: Airflow 3.3.2's `DAG.test()` (`airflow dags
    test`, the demo) fails at the end of a successful run of a DAG that has one. Set it (e.g. 120) where a
    scheduler and a triggerer run the DAGs."""
    return float(os.environ.get("DAG_RUN_DEADLINE_MINUTES", 0))


def pack_approval_required() -> bool:
    """Whether a new pack version waits for a planner's approval before it is recorded and published
    (default false: published as soon as it is rendered). The default of the publish DAG's
    `require_approval` param; a run triggered with the param set overrides it."""
    value = os.environ.get("PACK_APPROVAL_REQUIRED", "false").strip().lower()
    if value not in {"true", "false", "1", "0", "yes", "no"}:
        raise ValueError(f"PACK_APPROVAL_REQUIRED must be true or false, not {value!r}")
    return value in {"true", "1", "yes"}


def pack_approval_timeout_hours() -> float:
    """How long a staged pack waits for a planner's answer (default 72 hours) before it is taken as
    rejected (nothing recorded, staged files removed). Airflow's scheduler enforces it."""
    return float(os.environ.get("PACK_APPROVAL_TIMEOUT_HOURS", 72))


def pack_staging_dir() -> Path:
    """Where new pack versions wait for approval, never in the published folder (default: beside
    PACKS_DIR, `<PACKS_DIR>-awaiting-approval`)."""
    packs = packs_dir()
    return Path(os.environ.get("PACK_STAGING_DIR", packs.with_name(packs.name + "-awaiting-approval")))
