"""SQL style is part of the build: sqlfluff over every SQL file the project runs (dbt models, macros and data
tests with the dbt templater, against the session's real server, which it needs to compile the models; the
bootstrap, the planner queries and the package's sql/ folders with the raw and placeholder templaters)."""

from __future__ import annotations

import pytest

from probation_evidence import settings
from probation_evidence.local import sql_lint

pytestmark = pytest.mark.warehouse


def test_every_sql_file_is_sqlfluff_clean(warehouse_url, capfd):
    status = sql_lint.run("lint", ["--nocolor"], url=warehouse_url)
    output = capfd.readouterr().out
    assert status == 0, output[-6000:]


def test_every_sql_folder_of_the_package_is_linted():
    """A new sql/ folder in the package, or a new SQL file in sql/, falls under one of the groups."""
    linted = [path for group in sql_lint.GROUPS for path in group.paths]
    root = settings.project_root()
    sql_files = [*root.glob("plugins/probation_evidence/**/*.sql"), *root.glob("sql/**/*.sql")]
    assert sql_files
    unlinted = [
        str(path.relative_to(root))
        for path in sql_files
        if not any(path.relative_to(root).is_relative_to(prefix) for prefix in linted)
    ]
    assert not unlinted
