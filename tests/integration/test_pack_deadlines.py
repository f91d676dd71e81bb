"""The pack-deadline check, run through Airflow (`DAG.test()`, as the demo runs DAGs) against a real
PostgreSQL, with a real HTTP webhook receiver:

- an inspection whose fieldwork starts within PACK_DEADLINE_DAYS with no published pack gets one alert
  (inspection, provider, fieldwork start, days left), the run fails, and the task and DAG-run failure
  callbacks (the notifier every DAG carries) post their alerts too;
- when every such pack is published nothing is sent and the run succeeds;
- the DeadlineAlert callback runs from a real Deadline row of that run, queued by Airflow's own
  `Deadline.handle_miss` and run by its `CallbackTrigger`, as the scheduler and triggerer do.

A throwaway database per module, bootstrapped as the warehouse is, holds marts.dim_provider and
marts.dim_inspection as the marts models build them; audit.pack_publications is the real one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from probation_evidence import warehouse
from tests.unit.test_alerts import AlertReceiver

pytestmark = [pytest.mark.warehouse, pytest.mark.airflow, pytest.mark.slow]

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "check_pack_deadlines.py"
RUN_DATE = date(2026, 9, 30)

TABLES_SQL = """
create table marts.dim_provider (provider_id text primary key, provider_name text not null);
create table marts.dim_inspection (
    inspection_id text primary key, provider_id text not null, inspection_type text not null,
    fieldwork_start_date date not null, fieldwork_end_date date not null, planned_as_at_date date
);
"""
PROVIDERS = [("N07", "London"), ("N03", "Wales"), ("N50", "North West"), ("N51", "East of England")]
# (inspection, provider, fieldwork starts this many days after the run date)
INSPECTIONS = [
    ("INS-2026-N07", "N07", 5),  # within 14 days, no pack: late
    ("INS-2026-N03", "N03", 12),  # within 14 days, published
    ("INS-2026-N50", "N50", 30),  # outside the window: not yet late
    ("INS-2026-N51", "N51", -1),  # fieldwork already started: no longer checked
]


@pytest.fixture(scope="module")
def url(server_url):
    name = f"pe_deadline_test_{secrets.token_hex(6)}"
    url = warehouse.fresh_database(server_url, name)
    try:
        warehouse.bootstrap(url)
        with psycopg.connect(url.url()) as conn:
            conn.execute(TABLES_SQL)
            conn.cursor().executemany("insert into marts.dim_provider values (%s, %s)", PROVIDERS)
            conn.cursor().executemany(
                "insert into marts.dim_inspection values (%s, %s, 'Regional inspection', %s, %s, %s)",
                [
                    (i, p, RUN_DATE + timedelta(days=d), RUN_DATE + timedelta(days=d + 11), RUN_DATE)
                    for i, p, d in INSPECTIONS
                ],
            )
            publish(conn, "INS-2026-N03", "N03")
        warehouse.bootstrap(url)  # grants the publisher the marts tables made above
        yield url
    finally:
        warehouse.drop_database(server_url, name)


def publish(conn, inspection_id: str, provider_id: str) -> None:
    conn.execute(
        "insert into audit.pack_publications (publication_id, inspection_id, provider_id, pack_version,"
        " as_at_date, data_sha256, html_sha256, reason, published_at) values (%s, %s, %s, 1, %s, 'd', 'h',"
        " 'first', now())",
        [f"{inspection_id}-v1", inspection_id, provider_id, RUN_DATE],
    )


@pytest.fixture(scope="module")
def airflow_db():
    """Airflow's SQLite metadata database of this test session (tests/conftest.py points AIRFLOW_HOME at it)."""
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), "db", "migrate"], env=dict(os.environ), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture
def receiver(monkeypatch, url, airflow_db):
    started = AlertReceiver().start()
    monkeypatch.setenv("ALERT_WEBHOOK_URL", started.url)
    monkeypatch.setenv("ALERT_WEBHOOK_TOKEN", "deadline-test-token")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", url.airflow_conn_uri())
    monkeypatch.setenv("PACK_DEADLINE_DAYS", "14")
    yield started
    started.stop()


def run_check(logical: date):
    """One run of check_pack_deadlines in this process, as `airflow dags test` runs it."""
    # Airflow (with pendulum and sqlalchemy) is imported by the tests that run it: importing it takes
    # seconds, which a run that deselects the airflow mark should not pay for collecting this module.
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    dag = bag.dags["check_pack_deadlines"]
    for task in dag.tasks:
        task.retries = 0  # a failing find_late_packs would otherwise wait for its retries
    return dag.test(logical_date=pendulum.datetime(logical.year, logical.month, logical.day, 7, 30, tz="UTC"))


def test_an_imminent_inspection_without_a_pack_alerts_and_fails_the_run(receiver):
    run = run_check(RUN_DATE)
    assert run.state == "failed"

    [late] = receiver.bodies("pack_deadline")
    assert {k: late[k] for k in ("inspection_id", "provider_id", "provider_name", "fieldwork_start_date")} == {
        "inspection_id": "INS-2026-N07",
        "provider_id": "N07",
        "provider_name": "London",
        "fieldwork_start_date": "2026-10-05",
    }
    assert (late["days_left"], late["deadline_days"], late["run_date"]) == (5, 14, "2026-09-30")
    assert (late["dag_id"], late["run_id"]) == ("check_pack_deadlines", run.run_id)

    [task_failed] = receiver.bodies("task_failed")
    assert task_failed["task_id"] == "alert_late_packs" and task_failed["run_id"] == run.run_id
    assert task_failed["try_number"] == 1
    assert task_failed["error"].startswith("PackDeadlineMissed: 1 inspection(s) start within 14 days")
    assert "INS-2026-N07 (5 days left)" in task_failed["error"]
    assert "/dags/check_pack_deadlines/runs/" in task_failed["log_url"]

    [run_failed] = receiver.bodies("dag_run_failed")
    assert (run_failed["dag_id"], run_failed["run_id"]) == ("check_pack_deadlines", run.run_id)
    assert run_failed["failed_task_id"] == "alert_late_packs"

    assert len(receiver.requests) == 3
    assert {r.headers["authorization"] for r in receiver.requests} == {"Bearer deadline-test-token"}
    assert "deadline-test-token" not in str([r.body for r in receiver.requests])


def test_when_every_imminent_pack_is_published_nothing_is_sent_and_the_run_succeeds(receiver, url):
    with psycopg.connect(url.url()) as conn:
        publish(conn, "INS-2026-N07", "N07")
    try:
        run = run_check(RUN_DATE)
    finally:
        with psycopg.connect(url.url()) as conn:
            conn.execute("delete from audit.pack_publications where inspection_id = 'INS-2026-N07'")
    assert run.state == "success"
    assert receiver.requests == []


def test_the_deadline_window_is_the_setting(receiver, monkeypatch):
    """With a 40-day window the inspection 30 days away is late too; soonest first."""
    monkeypatch.setenv("PACK_DEADLINE_DAYS", "40")
    run = run_check(RUN_DATE)
    assert run.state == "failed"
    assert [(b["inspection_id"], b["days_left"]) for b in receiver.bodies("pack_deadline")] == [
        ("INS-2026-N07", 5),
        ("INS-2026-N50", 30),
    ]


def test_a_missed_run_deadline_reaches_the_webhook_through_airflows_own_path(receiver):
    """A Deadline row for a real run of the DAG, with the DAG's own DeadlineAlert callback, handled as the
    scheduler handles a missed one (Deadline.handle_miss queues a triggerer callback with the context) and run
    as the triggerer runs it (CallbackTrigger)."""
    from airflow.models import DagRun
    from airflow.models.callback import CallbackState
    from airflow.models.deadline import Deadline
    from airflow.triggers.callback import CallbackTrigger
    from airflow.utils.session import create_session

    from probation_evidence.orchestration.alerts import dag_run_deadline  # imports Airflow

    run = run_check(RUN_DATE)
    receiver.requests.clear()
    with create_session() as session:
        dag_run = session.query(DagRun).filter_by(dag_id="check_pack_deadlines", run_id=run.run_id).one()
        deadline = Deadline(
            deadline_time=datetime.now().astimezone() - timedelta(minutes=1),
            callback=dag_run_deadline(minutes=120).callback,
            dagrun_id=dag_run.id,
            deadline_alert_id=None,
            dag_id=dag_run.dag_id,
        )
        session.add(deadline)
        session.flush()
        deadline.handle_miss(session)
        data = dict(deadline.callback.data)
        session.rollback()  # leave Airflow's database as the run left it

    async def trigger_events():
        trigger = CallbackTrigger(callback_path=data["path"], callback_kwargs=data["kwargs"])
        return [event.payload async for event in trigger.run()]

    events = asyncio.run(trigger_events())
    assert events[-1]["state"] == CallbackState.SUCCESS, events
    [body] = receiver.bodies()
    assert body["kind"] == "dag_run_deadline_missed"
    assert (body["dag_id"], body["run_id"]) == ("check_pack_deadlines", run.run_id)
    assert body["state"] == "failed"
    assert body["deadline_time"]


def test_airflow_3_3_dag_test_still_fails_a_successful_run_of_a_dag_with_a_deadline(receiver, url, monkeypatch):
    """Why DAG_RUN_DEADLINE_MINUTES is 0 (no DeadlineAlert) by default: DAG.test() deserialises the DAG
    straight from its serialisation, so at the end of a successful run it looks the DeadlineAlert up by the
    encoded alert instead of the id the scheduler's stored copy holds, and fails. When this test fails,
    Airflow has fixed that: turn the default on (settings.dag_run_deadline_minutes)."""
    from sqlalchemy.exc import StatementError

    monkeypatch.setenv("DAG_RUN_DEADLINE_MINUTES", "120")  # read when the DAG file is parsed
    with psycopg.connect(url.url()) as conn:
        publish(conn, "INS-2026-N07", "N07")
    try:
        with pytest.raises(StatementError, match="has no attribute 'hex'"):
            run_check(RUN_DATE)
    finally:
        with psycopg.connect(url.url()) as conn:
            conn.execute("delete from audit.pack_publications where inspection_id = 'INS-2026-N07'")
