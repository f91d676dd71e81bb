"""The evidence-pack browser in Airflow's UI: what `plugins/evidence_packs_plugin.py` registers.

Light on purpose: every Airflow process imports the plugin, but only the api-server reads `fastapi_apps`,
and only then is the app (FastAPI, Airflow's security dependencies, Jinja) imported and built.
"""

from __future__ import annotations

#: Where Airflow's api-server mounts the app.
URL_PREFIX = "/evidence-packs"


def fastapi_apps() -> list[dict]:
    """The plugin's `fastapi_apps`: the app (`probation_evidence.ui.app`), mounted at /evidence-packs."""
    from probation_evidence.ui.app import create_app

    return [{"name": "evidence_packs", "app": create_app(), "url_prefix": URL_PREFIX}]


def external_views(base_path: str = "") -> list[dict]:
    """The plugin's `external_views`: "Evidence packs" in Airflow's navigation, and "dbt docs" under Docs.

    `base_path` is the path of Airflow's `[api] base_url` (empty when Airflow is served at the root).
    With a `url_route`, Airflow's UI shows the page in a frame at `/plugin/<url_route>`.
    """
    base = base_path.rstrip("/") + URL_PREFIX
    return [
        {"name": "Evidence packs", "href": f"{base}/", "url_route": "evidence-packs", "icon": f"{base}/icon.svg"},
        {"name": "dbt docs", "href": f"{base}/dbt-docs", "url_route": "dbt-docs", "category": "docs"},
    ]
