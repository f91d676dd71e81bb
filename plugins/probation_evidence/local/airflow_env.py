"""The environment a local Airflow runs in: SQLite metadata under a git-ignored AIRFLOW_HOME, the project's
DAGs and plugins, and connections passed as `AIRFLOW_CONN_*` variables (never written to disk or logs).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from probation_evidence import settings
from probation_evidence.sources import lineage
from probation_evidence.warehouse import WarehouseUrl


def airflow_home() -> Path:
    return settings.state_dir() / "airflow"


def write_secret(path: Path, text: str) -> None:
    """A new file readable by its owner only (0600 from the moment it exists); refuses to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _jwt_secret(home: Path) -> str:
    """A per-checkout secret for Airflow's execution API tokens, generated once, kept 0600."""
    path = home / "jwt_secret"
    if not path.exists():
        write_secret(path, secrets.token_urlsafe(64))
    return path.read_text().strip()


def _fernet_key(home: Path) -> str:
    """A per-checkout Fernet key, generated once, kept 0600: connections stored in the metadata database (the
    stack's provider API connections) are encrypted with it, never kept in plain text."""
    path = home / "fernet_key"
    if not path.exists():
        write_secret(path, base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    return path.read_text().strip()


def api_connections(base_url: str, token: str) -> dict[str, dict]:
    """Every API family's connection (`<family>_api`) to one provider API, as `airflow connections import`
    reads them (and as `AIRFLOW_CONN_*` variables hold them)."""
    host, port = base_url.split("://", 1)[1].rsplit(":", 1)
    scheme = base_url.split("://", 1)[0]
    conn = {"conn_type": "http", "host": host, "port": int(port), "schema": scheme, "password": token}
    # From settings: importing Airflow here would create ~/airflow.
    return {settings.api_conn_id(family): conn for family in settings.FAMILIES}


def environment(warehouse: WarehouseUrl, provider_api: tuple[str, str] | None = None) -> dict[str, str]:
    """Airflow's environment; `provider_api` (base URL, token) backs every API family's connection."""
    root = settings.project_root()
    home = airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(warehouse.dbt_env())
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": _jwt_secret(home),
            "AIRFLOW__CORE__FERNET_KEY": _fernet_key(home),
            "AIRFLOW__COSMOS__CACHE_DIR": str(settings.state_dir() / "cosmos"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW_CONN_WAREHOUSE": warehouse.airflow_conn_uri(),
            "PROBATION_EVIDENCE_HOME": str(root),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        }
    )
    env.update(lineage.airflow_config())
    if provider_api:
        for conn_id, conn in api_connections(*provider_api).items():
            env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    return env


def airflow(
    args: list[str], env: dict[str, str], check: bool = True, capture: bool = False
) -> subprocess.CompletedProcess:
    """Run the `airflow` command of this environment (`capture`: its output returned as text, not shown)."""
    executable = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(executable), *args], env=env, check=check, capture_output=capture, text=capture)


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError("airflow db migrate failed:\n" + result.stdout[-2000:] + result.stderr[-2000:])
