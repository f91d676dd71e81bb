"""sqlfluff over every SQL file the project runs.

Two sqlfluff runs: dbt's models, macros and data tests with `--templater dbt` (it compiles them against the
warehouse), and everything else with the root `.sqlfluff`'s placeholder templater, whose parameter pattern
the nested `.sqlfluff` files set (sql/queries: psql variables; the package's sql/ folders: psycopg
parameters; sql/bootstrap: none). The rules are the root `.sqlfluff`'s for both.

    python -m probation_evidence.local.sql_lint [lint|fix] [sqlfluff options]
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from probation_evidence import settings, warehouse
from probation_evidence.local import dbt_runner


@dataclass(frozen=True)
class SqlGroup:
    """SQL files linted in one sqlfluff run; `paths` are relative to the project root."""

    paths: tuple[str, ...]
    dbt: bool = False


GROUPS = (
    SqlGroup(("dbt_project/models", "dbt_project/macros", "dbt_project/tests"), dbt=True),
    SqlGroup(("sql/bootstrap", "sql/queries", "plugins/probation_evidence")),
)


def run(command: str = "lint", options: list[str] | None = None, url: warehouse.WarehouseUrl | None = None) -> int:
    """Run sqlfluff `command` over every group; the exit status is the first failing group's."""
    status = 0
    for group in GROUPS:
        if group.dbt:
            args = ["sqlfluff", command, *group.paths, "--templater", "dbt", *(options or [])]
            result = dbt_runner.run(args, url=url, check=False)
        else:
            sqlfluff = str(Path(sys.executable).parent / "sqlfluff")
            args = [sqlfluff, command, *group.paths, *(options or [])]
            result = subprocess.run(args, cwd=settings.project_root(), check=False)
        status = status or result.returncode
    return status


def main(argv: list[str]) -> int:
    command = argv[0] if argv and not argv[0].startswith("-") else "lint"
    return run(command, argv[1:] if argv and argv[0] == command else argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
