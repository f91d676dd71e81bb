"""OpenLineage for the pipeline's Airflow: where the events go.

Locally every event is appended, one JSON document per line, to a file under the state folder, so a test
or an engineer can read the lineage of a run with no server. Set `OPENLINEAGE_URL` (a Marquez or any
OpenLineage HTTP endpoint; `OPENLINEAGE_API_KEY` if it needs one) to send them over HTTP instead.
Nothing here imports Airflow: the local Airflow environment is built from it before Airflow starts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from probation_evidence import settings

#: The namespace of the pipeline's jobs in every event.
NAMESPACE = "probation-evidence"


def events_path() -> Path:
    """The local events file (file transport): `OPENLINEAGE_EVENTS_FILE`, else under the state folder."""
    override = os.environ.get("OPENLINEAGE_EVENTS_FILE")
    return Path(override) if override else settings.state_dir() / "openlineage" / "events.jsonl"


def transport() -> dict:
    """The OpenLineage transport: HTTP when `OPENLINEAGE_URL` is set, else the local events file."""
    url = os.environ.get("OPENLINEAGE_URL")
    if url:
        endpoint = os.environ.get("OPENLINEAGE_ENDPOINT", "api/v1/lineage")
        config: dict = {"type": "http", "url": url, "endpoint": endpoint}
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
    }
