"""After the demo pipeline's transform run, the marts are recorded as a complete, tested build: the one
row of audit.marts_state the publish DAG checks before it freezes a pack."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.warehouse, pytest.mark.airflow, pytest.mark.slow]


def test_the_transform_run_marks_the_marts_passed(pipeline_state, conn):
    assert conn.execute("select status, detail from audit.marts_state").fetchall() == [
        ("passed", "every model built and every dbt test passed")
    ]
