"""Airflow plugin: the planners' evidence-pack browser (and the dbt docs site) inside Airflow's UI.

Mounts `probation_evidence.ui`'s FastAPI app at `/evidence-packs` on the api-server and adds "Evidence
packs" to the navigation ("dbt docs" under Docs). Requests are checked against Airflow's auth manager.
"""

from __future__ import annotations

from functools import cached_property
from urllib.parse import urlsplit

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

from probation_evidence import ui


class EvidencePacksPlugin(AirflowPlugin):
    name = "evidence_packs"
    external_views = ui.external_views(urlsplit(conf.get("api", "base_url", fallback="") or "").path)

    @cached_property
    def fastapi_apps(self) -> list[dict]:  # built only where read: the api-server
        return ui.fastapi_apps()
