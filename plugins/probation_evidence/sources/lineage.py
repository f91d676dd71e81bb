"""OpenLineage for the pipeline's Airflow: where the events go, and what the ingest tasks read and write.

Locally every event is appended, one JSON document per line, to a file under the state folder, so a test
or an engineer can read the lineage of a run with no server. Set `OPENLINEAGE_URL` (a Marquez or any
OpenLineage HTTP endpoint; `OPENLINEAGE_API_KEY` if it needs one) to send them over HTTP instead.

Datasets are named as OpenLineage names them, so the ingest tasks' outputs are the very datasets the dbt
models (reported by Cosmos) read:

* a warehouse table: namespace `postgres://<host>:<port>` (the `warehouse` connection's host and port, as
  in the dbt profile Cosmos builds from it), name `<database>.<schema>.<table>`, e.g. `raw.staffing_staff`;
* a provider API entity: namespace `<scheme>://<host>:<port>` of the family's API connection, name the
  entity's path, `/v1/providers/<provider>/<entity>` (never the token);
* a drop folder entity: namespace `file`, name `<DROPS_DIR>/<family>/<provider>/<entity>` (the provider's
  `<entity>_<period end>.<ext>` files);
* the landing zone of an entity: namespace `file`, name `<LANDING_DIR>/<family>/<entity>` (Parquet,
  partitioned by provider and period).

Nothing here imports Airflow at import time: the local Airflow environment is built from this module
before Airflow starts. `report` is called from inside a running task and never fails it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from probation_evidence import settings
from probation_evidence.sources.connectors.provider_api import entity_url
from probation_evidence.sources.contracts import CONTRACTS

log = logging.getLogger(__name__)

#: The namespace of the pipeline's jobs in every event.
NAMESPACE = "probation-evidence"
#: OpenLineage's namespace for a path on a local (or mounted) file system.
FILE_NAMESPACE = "file"
#: The custom extractors (semicolon-separated, as `[openlineage] extractors` takes them): Cosmos's dbt source
#: inputs named by their physical tables, and each watcher sensor's node lineage (see lineage_extractors).
EXTRACTORS = (
    "probation_evidence.sources.lineage_extractors.DbtSourceTablesExtractor;"
    "probation_evidence.sources.lineage_extractors.DbtWatcherNodeExtractor"
)

#: A dataset as (namespace, name).
DatasetId = tuple[str, str]


def events_path() -> Path:
    """The local events file (file transport): `OPENLINEAGE_EVENTS_FILE`, else under the state folder."""
    override = os.environ.get("OPENLINEAGE_EVENTS_FILE")
    return Path(override) if override else settings.state_dir() / "openlineage" / "events.jsonl"


def transport() -> dict:
    """The OpenLineage transport: HTTP when `OPENLINEAGE_URL` is set, else the local events file."""
    url = os.environ.get("OPENLINEAGE_URL")
    if url:
        endpoint = os.environ.get("OPENLINEAGE_ENDPOINT", "api/v1/lineage")
        # A lineage server that is slow or down never fails a task (the listener emits outside the task and
        # logs a failed emission as a warning) and costs little: a short timeout and two retries, where the
        # client's defaults (5 s, five retries with backoff) would hold every task ~10 s per event.
        timeout = float(os.environ.get("OPENLINEAGE_TIMEOUT_SECONDS", 2))
        config: dict = {
            "type": "http",
            "url": url,
            "endpoint": endpoint,
            "timeout": timeout,
            "retry": {"total": 2, "connect": 2, "read": 2, "backoff_factor": 0.2},
        }
        if os.environ.get("OPENLINEAGE_API_KEY"):
            config["auth"] = {"type": "api_key", "apiKey": os.environ["OPENLINEAGE_API_KEY"]}
        return config
    path = events_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return {"type": "file", "log_file_path": str(path), "append": True}


def airflow_config() -> dict[str, str]:
    """The `[openlineage]` settings of the local Airflow, as environment variables."""
    return {
        "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport()),
        "AIRFLOW__OPENLINEAGE__EXTRACTORS": EXTRACTORS,
        # Emit from a thread of the task's process, not from a fork of it per event (the provider's default):
        # forking the whole Airflow process twice per task cost the demo's file-drop ingest 2-3x its time
        # under load, and a fork of `dag.test`'s process also copies its in-process API server's threads.
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
    }


def describe_transport(config: dict | None = None) -> str:
    """Where events go, for a log line: the file, or the HTTP server without credentials or query."""
    config = transport() if config is None else config
    if config.get("type") == "file":
        return f"file {config['log_file_path']}"
    parts = urlsplit(config.get("url", ""))
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return f"http {parts.scheme}://{netloc}{parts.path} ({'with' if 'auth' in config else 'no'} API key)"


# Dataset names -------------------------------------------------------------------------------------------


def warehouse_namespace(host: str, port: int | None) -> str:
    """The namespace of the warehouse's tables: as OpenLineage's dbt integration derives it from the profile."""
    return f"postgres://{host}:{port or 5432}"


def table_dataset(place: tuple[str, str], schema: str, table: str) -> DatasetId:
    """A warehouse table; `place` is (namespace, database name)."""
    namespace, database = place
    return namespace, f"{database}.{schema}.{table}"


def warehouse_place() -> tuple[str, str]:
    """(namespace, database) of the `warehouse` Airflow connection, read at run time."""
    from airflow.sdk import Connection  # at call time: this module is imported before Airflow is set up

    conn = Connection.get(settings.WAREHOUSE_CONN_ID)
    return warehouse_namespace(conn.host or "127.0.0.1", conn.port), conn.schema or "probation_evidence"


def landing_dataset(family: str, entity: str, landing_root: Path | None = None) -> DatasetId:
    root = Path(landing_root or settings.landing_dir()).resolve()
    return FILE_NAMESPACE, (root / family / entity).as_posix()


def source_dataset(extracted: dict, entity: str, api_base_url: str | None, drops_root: Path | None = None) -> DatasetId:
    """Where a provider's entity comes from: its API endpoint, or its files in the provider's drop folder."""
    family, provider_id = extracted["family"], extracted["provider_id"]
    if api_base_url:
        parts = urlsplit(entity_url(api_base_url, provider_id, entity))
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return f"{parts.scheme}://{netloc}", parts.path
    root = Path(drops_root or settings.drops_dir()).resolve()
    return FILE_NAMESPACE, (root / family / provider_id / entity).as_posix()


def _unique(datasets: Iterable[DatasetId]) -> list[DatasetId]:
    return list(dict.fromkeys(datasets))


def extract_lineage(
    extracted: dict, api_base_url: str | None, drops_root: Path | None = None, landing_root: Path | None = None
) -> tuple[list[DatasetId], list[DatasetId]]:
    """(inputs, outputs) of one provider's extract: each entity it landed, from its source to the landing zone."""
    entities = _unique((m["source"], m["entity"]) for m in extracted["manifests"])
    inputs = [source_dataset(extracted, entity, api_base_url, drops_root) for _, entity in entities]
    outputs = [landing_dataset(family, entity, landing_root) for family, entity in entities]
    return _unique(inputs), _unique(outputs)


def load_lineage(
    loaded: dict, place: tuple[str, str], landing_root: Path | None = None
) -> tuple[list[DatasetId], list[DatasetId]]:
    """(inputs, outputs) of one provider's load: landed entities into their raw tables (and the audit tables
    every slice load writes: its batch, its quarantined rows)."""
    entities = _unique((r["source"], r["entity"]) for r in loaded["results"])
    inputs = [landing_dataset(family, entity, landing_root) for family, entity in entities]
    outputs = [table_dataset(place, "raw", CONTRACTS[(family, entity)].table) for family, entity in entities]
    if entities:
        outputs += [table_dataset(place, "audit", "load_batches"), table_dataset(place, "audit", "quarantine")]
    return inputs, outputs


def submissions_lineage(place: tuple[str, str]) -> tuple[list[DatasetId], list[DatasetId]]:
    """(inputs, outputs) of recording a family's submissions: the load batches into the submission register."""
    inputs = [table_dataset(place, "audit", "load_batches")]
    outputs = [table_dataset(place, "audit", "submissions"), table_dataset(place, "audit", "drop_file_events")]
    return inputs, outputs


# Reporting from a running task ---------------------------------------------------------------------------


def report_extract(extracted: dict, api_base_url: str | None) -> None:
    """From an extract task: the entities it landed, from their source to the landing zone."""
    report(lambda: extract_lineage(extracted, api_base_url))


def report_load(loaded: dict) -> None:
    """From a load task: the landed entities it loaded, into their raw tables."""
    report(lambda: load_lineage(loaded, warehouse_place()))


def report_submissions() -> None:
    """From the task recording a family's submissions."""
    report(lambda: submissions_lineage(warehouse_place()))


def report(lineage: Callable[[], tuple[Iterable[DatasetId], Iterable[DatasetId]]]) -> None:
    """Make the running task's OpenLineage events carry the (inputs, outputs) `lineage()` returns. Never raises.

    They become the task's inlets and outlets as OpenLineage datasets: the provider's listener puts a task's
    inlets and outlets into its COMPLETE (or FAIL) event, while Airflow itself only acts on Assets among them
    (so no Asset is registered or updated, and no DAG is triggered). Previous datasets are replaced, not
    added to: a mapped task's instances may share one operator object when run in one process (`dag.test`).
    """
    try:  # Airflow is imported only inside a running task (module docstring), where a failure is logged
        from airflow.providers.openlineage import conf

        if conf.is_disabled():
            return
        from airflow.sdk import get_current_context
        from openlineage.client.event_v2 import Dataset

        inputs, outputs = lineage()
        task = get_current_context()["task"]
        task.inlets = [i for i in task.inlets if not isinstance(i, Dataset)] + [
            Dataset(namespace=namespace, name=name) for namespace, name in inputs
        ]
        task.outlets = [o for o in task.outlets if not isinstance(o, Dataset)] + [
            Dataset(namespace=namespace, name=name) for namespace, name in outputs
        ]
    except Exception:  # lineage is a by-product: it must never fail the work it describes
        log.warning("could not attach OpenLineage inputs/outputs to the task", exc_info=True)
