"""Run dbt (and sqlfluff's dbt templater) with the profile's environment variables set.

`dbt_project/profiles.yml` reads only environment variables. With `WAREHOUSE_URL` set, or the embedded
warehouse running, they point at that server; otherwise (parsing and linting need no database) at
placeholders, so `dbt parse` and `sqlfluff lint` work on a fresh checkout.

    python -m probation_evidence.dbt_runner parse | build | docs generate | ...
    python -m probation_evidence.dbt_runner sqlfluff lint dbt_project/models
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from probation_evidence import settings


def dbt_environment(url=None) -> dict[str, str]:
    from probation_evidence import warehouse

    env = dict(os.environ, DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    if url is None:
        try:
            url = warehouse.resolve(start=False)
        except warehouse.WarehouseError:
            url = warehouse.WarehouseUrl("127.0.0.1", 5432, "postgres", "", warehouse.DATABASE)
    env.update(url.dbt_env())
    return env


def run(args: list[str], url=None, check: bool = True) -> subprocess.CompletedProcess:
    project = settings.dbt_project_dir()
    bin_dir = Path(sys.executable).parent
    if args and args[0] == "sqlfluff":
        argv = [str(bin_dir / "sqlfluff"), *args[1:]]
    else:
        argv = [str(bin_dir / "dbt"), *args, "--project-dir", str(project), "--profiles-dir", str(project)]
    return subprocess.run(argv, env=dbt_environment(url), cwd=settings.project_root(), check=check)


def main() -> int:
    return run(sys.argv[1:], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
