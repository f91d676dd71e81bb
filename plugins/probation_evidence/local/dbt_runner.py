"""Run dbt (and sqlfluff's dbt templater) with the profile's environment variables set.

`dbt_project/profiles.yml` reads only environment variables. They point at `WAREHOUSE_URL` if set, else
at the embedded warehouse (started when the command needs a database: sqlfluff's dbt templater always
connects). `dbt parse` needs none, so it works on a fresh checkout with placeholders.

    python -m probation_evidence.local.dbt_runner parse | build | docs generate | ...
    python -m probation_evidence.local.dbt_runner sqlfluff lint dbt_project/models
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from probation_evidence import settings, warehouse
from probation_evidence.local import embedded


def dbt_environment(url: warehouse.WarehouseUrl | None = None, needs_database: bool = False) -> dict[str, str]:
    env = dict(os.environ, DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    if url is None:
        try:
            url = embedded.resolve(start=needs_database)
        except warehouse.WarehouseError:
            url = warehouse.WarehouseUrl("127.0.0.1", 5432, "postgres", "", warehouse.DATABASE)
    env.update(url.dbt_env())
    return env


def run(args: list[str], url: warehouse.WarehouseUrl | None = None, check: bool = True) -> subprocess.CompletedProcess:
    project = settings.dbt_project_dir()
    bin_dir = Path(sys.executable).parent
    # sqlfluff's dbt templater always connects; `dbt parse` never does.
    needs_database = bool(args) and args[0] not in {"parse", "deps", "clean", "--version"}
    if args and args[0] == "sqlfluff":
        argv = [str(bin_dir / "sqlfluff"), *args[1:]]
    else:
        argv = [str(bin_dir / "dbt"), *args, "--project-dir", str(project), "--profiles-dir", str(project)]
    env = dbt_environment(url, needs_database)
    return subprocess.run(argv, env=env, cwd=settings.project_root(), check=check)


def main() -> int:
    return run(sys.argv[1:], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
