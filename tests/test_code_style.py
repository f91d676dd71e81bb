"""SQL style is part of the build: sqlfluff with the dbt templater, against the session's real server
(the templater compiles every model, which needs a connection)."""

from __future__ import annotations

import pytest

from probation_evidence.local import dbt_runner

pytestmark = pytest.mark.warehouse


def test_dbt_sql_is_sqlfluff_clean(warehouse_url, capfd):
    result = dbt_runner.run(
        ["sqlfluff", "lint", "dbt_project/models", "dbt_project/tests", "--nocolor"],
        url=warehouse_url,
        check=False,
    )
    output = capfd.readouterr().out
    assert result.returncode == 0, output[-4000:]
