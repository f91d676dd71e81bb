"""A planner's approval between rendering a new pack version and recording it (PACK_APPROVAL_REQUIRED).

Against a real PostgreSQL (a throwaway database per module, bootstrapped and seeded with the marts the
pack reads, as in tests/integration/test_publish_consistency.py), with the real publisher and headless
chromium:

- approval is off unless asked for, and the DAG's `require_approval` param follows the setting;
- a staged version is not recorded and not in the published folder; approving records it (the hashes of
  the files that were staged) and moves its files; rejecting records nothing and removes them;
- an approval is refused, recording nothing, if the warehouse gives another pack by the time it comes, or
  if the marts are not a tested build then;
- through Airflow: a real `publish_evidence_packs` run (DAG.test(), as `make demo` runs it) with approval
  on parks one Human-in-the-loop task per new pack; the test answers through Airflow's REST API
  (`PATCH .../hitlDetails`) of an api-server sharing the run's metadata database, approving one pack and
  rejecting the other, and reads what was recorded before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from probation_evidence import settings, warehouse
from probation_evidence.packs import approval, publish
from tests.integration.test_pack_queries import AS_AT
from tests.integration.test_publish_consistency import seeded_warehouse

pytestmark = [pytest.mark.warehouse, pytest.mark.slow]

CHANGED = "update marts.fct_indicator_values set value = %s where indicator_value_id = 'N07|2026-09-30|S01'"
DAG_ID = "publish_evidence_packs"


@pytest.fixture(scope="module")
def url(server_url) -> Iterator[warehouse.WarehouseUrl]:
    """A bootstrapped warehouse with the seeded marts and audit rows, its marts state 'passed'."""
    with seeded_warehouse(server_url, "pe_approval_test") as url:
        yield url


@pytest.fixture
def clean(url) -> Iterator[None]:
    """Each test starts and ends with no publication and the marts 'passed'."""

    def reset() -> None:
        with psycopg.connect(url.url()) as conn:
            conn.execute("delete from marts.evidence_pack_values")
            conn.execute("delete from audit.pack_publications")
            conn.execute("update audit.marts_state set status = 'passed', detail = 'seeded'")
            conn.execute(CHANGED, [0.1233])

    reset()
    yield
    reset()


def publications(url) -> list[tuple]:
    with psycopg.connect(url.url()) as conn:
        return conn.execute(
            "select inspection_id, pack_version, reason, data_sha256, html_sha256, csv_sha256"
            " from audit.pack_publications order by inspection_id, pack_version"
        ).fetchall()


def frozen_rows(url, publication_id: str) -> int:
    with psycopg.connect(url.url()) as conn:
        return conn.execute(
            "select count(*) from marts.evidence_pack_values where publication_id = %s", [publication_id]
        ).fetchone()[0]


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def inspection(inspection_id: str) -> dict:
    return {"inspection_id": inspection_id, "run_date": AS_AT.isoformat()}


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --------------------------------------------------------------------------------------------- settings


def test_approval_is_off_unless_asked_for_and_the_dag_param_follows_the_setting(monkeypatch):
    monkeypatch.delenv("PACK_APPROVAL_REQUIRED", raising=False)
    assert settings.pack_approval_required() is False
    monkeypatch.setenv("PACK_APPROVAL_REQUIRED", "True")
    assert settings.pack_approval_required() is True
    monkeypatch.setenv("PACK_APPROVAL_REQUIRED", "maybe")
    with pytest.raises(ValueError, match="PACK_APPROVAL_REQUIRED must be true or false, not 'maybe'"):
        settings.pack_approval_required()

    monkeypatch.setenv("PACKS_DIR", "/srv/packs")
    monkeypatch.delenv("PACK_STAGING_DIR", raising=False)
    assert settings.pack_staging_dir() == Path("/srv/packs-awaiting-approval"), "beside, never inside, the packs"

    from airflow.dag_processing.dagbag import DagBag

    for value, expected in (("false", False), ("true", True)):
        monkeypatch.setenv("PACK_APPROVAL_REQUIRED", value)
        dag = DagBag(dag_folder=str(settings.project_root() / "dags" / f"{DAG_ID}.py")).dags[DAG_ID]
        assert dag.params.get_param("require_approval").value is expected
    decide = dag.get_task("approve_pack.decide")
    assert (decide.options, decide.defaults) == (["Approve", "Reject"], ["Reject"]), "no answer means reject"


# -------------------------------------------------------------------------------- the publisher's steps


def test_a_staged_version_is_recorded_and_published_only_once_approved(url, clean, tmp_path):
    packs, staging = tmp_path / "packs", tmp_path / "staging"
    staged = approval.stage_pack(url.url(), inspection("INS-IN"), packs, staging)
    assert (staged["status"], staged["inspection_id"], staged["provider_id"], staged["pack_version"]) == (
        "staged", "INS-IN", "N07", 1,
    )  # fmt: skip
    assert staged["reason"] == "first" and staged["previous"] is None
    assert files_under(staging) == [f"INS-IN/N07-evidence-pack-v1.{kind}" for kind in ("csv", "html", "pdf")]
    assert files_under(packs) == [], "nothing in the published folder"
    assert publications(url) == [], "nothing recorded"
    staged_hashes = {kind: sha256(staging / "INS-IN" / f"N07-evidence-pack-v1.{kind}") for kind in ("html", "csv")}

    request = approval.approval_request(staged)
    for shown in ("INS-IN", "N07", "first", str(staging / "INS-IN" / "N07-evidence-pack-v1.html")):
        assert shown in request["subject"] + request["body"]
    assert "London" not in request["body"], "codes, not names"

    outcome = approval.record_decision(url.url(), staged, {"chosen_options": ["Approve"]}, packs, staging)
    assert outcome["outcome"] == "approved"
    ((inspection_id, version, reason, data_sha, html_sha, csv_sha),) = publications(url)
    assert (inspection_id, version, reason, data_sha) == ("INS-IN", 1, "first", staged["data_sha256"])
    assert (html_sha, csv_sha) == (staged_hashes["html"], staged_hashes["csv"]), "the files that were approved"
    assert frozen_rows(url, "INS-IN-v1") > 0
    assert files_under(packs) == [f"INS-IN/N07-evidence-pack-v1.{kind}" for kind in ("csv", "html", "pdf")]
    assert sha256(packs / "INS-IN" / "N07-evidence-pack-v1.html") == html_sha
    assert files_under(staging) == [], "moved, not copied"

    # The next run finds the approved version current: nothing to stage, nothing recorded.
    again = approval.stage_pack(url.url(), inspection("INS-IN"), packs, staging)
    assert (again["status"], again["pack_version"]) == ("unchanged", 1)
    assert len(publications(url)) == 1 and files_under(staging) == []


def test_a_rejected_version_records_nothing_and_its_staged_files_are_removed(url, clean, tmp_path):
    packs, staging = tmp_path / "packs", tmp_path / "staging"
    publish.publish_pack(url.url(), inspection("INS-IN"), packs)  # v1, published without approval
    with psycopg.connect(url.url()) as conn:
        conn.execute(CHANGED, [0.5])
    staged = approval.stage_pack(url.url(), inspection("INS-IN"), packs, staging)
    assert (staged["pack_version"], staged["reason"], staged["previous"][0]) == (2, "data changed", 1)
    assert "version 1" in approval.approval_request(staged)["body"]
    before = publications(url)

    outcome = approval.record_decision(url.url(), staged, {"chosen_options": ["Reject"]}, packs, staging)
    assert outcome["outcome"] == "rejected" and len(outcome["removed"]) == 3
    assert publications(url) == before, "nothing recorded"
    assert files_under(staging) == []
    assert files_under(packs) == [f"INS-IN/N07-evidence-pack-v1.{kind}" for kind in ("csv", "html", "pdf")]

    with pytest.raises(ValueError, match="expected the answer 'Approve' or 'Reject' for INS-IN"):
        approval.record_decision(url.url(), staged, {"chosen_options": ["Maybe"]}, packs, staging)


def test_an_approval_is_refused_when_the_warehouse_changed_since_staging(url, clean, tmp_path):
    """What was approved is what is recorded, or nothing: the pack is read again at record time."""
    packs, staging = tmp_path / "packs", tmp_path / "staging"
    staged = approval.stage_pack(url.url(), inspection("INS-IN"), packs, staging)
    with psycopg.connect(url.url()) as conn:
        conn.execute(CHANGED, [0.5])
    with pytest.raises(approval.StagedPackOutdated, match="INS-IN v1 was approved but not recorded: the warehouse"):
        approval.record_decision(url.url(), staged, {"chosen_options": ["Approve"]}, packs, staging)
    assert publications(url) == []
    assert files_under(staging) == [] and files_under(packs) == []

    # Another version recorded meanwhile (a publisher without approval, from other numbers): refused too.
    staged = approval.stage_pack(url.url(), inspection("INS-IN"), packs, staging)
    with psycopg.connect(url.url()) as conn:
        conn.execute(CHANGED, [0.1233])
    publish.publish_pack(url.url(), inspection("INS-IN"), packs)
    with pytest.raises(approval.StagedPackOutdated, match="another version was recorded since it was staged"):
        approval.record_decision(url.url(), staged, {"chosen_options": ["Approve"]}, packs, staging)
    assert [(i, v) for i, v, *_ in publications(url)] == [("INS-IN", 1)]


def test_an_approval_is_refused_while_the_marts_are_not_a_tested_build(url, clean, tmp_path):
    packs, staging = tmp_path / "packs", tmp_path / "staging"
    staged = approval.stage_pack(url.url(), inspection("INS-NEAR"), packs, staging)
    with psycopg.connect(url.url()) as conn:
        conn.execute("update audit.marts_state set status = 'building'")
    with pytest.raises(publish.MartsNotPublishable, match="the marts state is 'building'"):
        approval.record_decision(url.url(), staged, {"chosen_options": ["Approve"]}, packs, staging)
    assert publications(url) == [] and files_under(packs) == []
    assert len(files_under(staging)) == 3, "kept: the approval can be retried once the marts passed"
    with psycopg.connect(url.url()) as conn:
        conn.execute("update audit.marts_state set status = 'passed'")
    approval.record_decision(url.url(), staged, {"chosen_options": ["Approve"]}, packs, staging)
    assert [(i, v, r) for i, v, r, *_ in publications(url)] == [("INS-NEAR", 1, "first")]


# ------------------------------------------------------------------------------ through Airflow's REST API


class AirflowApi:
    """An Airflow api-server process on a free port, sharing the test's Airflow metadata database."""

    def __init__(self, env: dict[str, str], log: Path):
        from probation_evidence.local.stack import free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        airflow = str(Path(sys.executable).with_name("airflow"))
        self.log = log
        self.process = subprocess.Popen(
            [airflow, "api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.token = ""

    def wait_healthy(self, user: str, password: str, timeout_s: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the api-server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/api/v2/monitor/health", timeout=5).status_code == 200:
                    answer = httpx.post(f"{self.base}/auth/token", json={"username": user, "password": password})
                    answer.raise_for_status()
                    self.token = answer.json()["access_token"]
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise AssertionError(f"the api-server was not healthy within {timeout_s} s: {self.log.read_text()[-3000:]}")

    def request(self, method: str, path: str, **kwargs):
        import httpx

        answer = httpx.request(
            method, self.base + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=30, **kwargs
        )
        assert answer.status_code == 200, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def pending_approvals(api: AirflowApi, runner: subprocess.Popen, log: Path, count: int) -> list[dict]:
    """Until `count` approvals of the DAG wait for an answer (failing if the run ends first)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if runner.poll() is not None:
            raise AssertionError(f"the DAG run ended before asking for approval: {log.read_text()[-4000:]}")
        found = api.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/~/hitlDetails", params={"response_received": False})
        # The detail row is written while the task is still running; it waits once Airflow has parked it.
        parked = [d for d in found["hitl_details"] if d["task_instance"]["state"] == "awaiting_input"]
        if len(parked) >= count:
            return parked
        time.sleep(1)
    raise AssertionError(f"no {count} approvals were asked for within 300 s: {log.read_text()[-4000:]}")


@pytest.mark.airflow
def test_a_dag_run_with_approval_on_records_only_what_a_planner_approves_through_the_api(url, clean, tmp_path):
    from probation_evidence.local import airflow_env

    packs, staging = tmp_path / "state" / "packs", tmp_path / "staging"
    user, password = "planner", secrets.token_urlsafe(16)
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({user: password}))
    passwords.chmod(0o600)
    with settings.environment(**settings.state_folders(tmp_path / "state"), PACK_STAGING_DIR=str(staging)):
        env = airflow_env.environment(url)
    env.update(
        {
            "PACK_APPROVAL_REQUIRED": "true",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{user}:user",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        }
    )
    airflow_env.migrate(env)
    # Two processes write the SQLite metadata database (the run, the api-server): WAL lets them.
    with sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db") as db:
        db.execute("pragma journal_mode=wal")

    api = AirflowApi(env, tmp_path / "api-server.log")
    run_log = tmp_path / "dag-run.log"
    runner = None
    try:
        api.wait_healthy(user, password)
        command = [sys.executable, "-m", "probation_evidence.local.dag_runner", AS_AT.isoformat(), DAG_ID]
        runner = subprocess.Popen(command, env=env, stdout=run_log.open("wb"), stderr=subprocess.STDOUT)

        waiting = {detail["subject"].split()[3]: detail for detail in pending_approvals(api, runner, run_log, 2)}
        assert sorted(waiting) == ["INS-IN", "INS-NEAR"], [d["subject"] for d in waiting.values()]
        # Waiting for the planner: nothing recorded, nothing in the published folder, the files staged.
        assert publications(url) == []
        assert files_under(packs) == []
        assert len(files_under(staging)) == 6
        detail = waiting["INS-IN"]
        assert detail["options"] == ["Approve", "Reject"]
        assert "N07" in detail["subject"] and "first" in detail["body"] and str(staging) in detail["body"]

        answers = {"INS-IN": "Approve", "INS-NEAR": "Reject"}
        for inspection_id, option in answers.items():
            ti = waiting[inspection_id]["task_instance"]
            path = (
                f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(ti['dag_run_id'], safe='')}/taskInstances/"
                f"{ti['task_id']}/{ti['map_index']}/hitlDetails"
            )
            answered = api.request("PATCH", path, json={"chosen_options": [option]})
            assert answered["chosen_options"] == [option] and answered["responded_by"]["name"] == user

        assert runner.wait(timeout=300) == 0, run_log.read_text()[-4000:]
        recorded = publications(url)
        assert [(i, v, r) for i, v, r, *_ in recorded] == [("INS-IN", 1, "first")], "only the approved pack"
        assert sha256(packs / "INS-IN" / "N07-evidence-pack-v1.html") == recorded[0][4]
        assert frozen_rows(url, "INS-IN-v1") > 0
        assert files_under(packs) == [f"INS-IN/N07-evidence-pack-v1.{kind}" for kind in ("csv", "html", "pdf")]
        assert files_under(staging) == [], "approved files moved, rejected files removed"

        # The run says what happened to each pack (record_decision's result, read through the API).
        ti = waiting["INS-NEAR"]["task_instance"]
        said = {}
        for inspection_id in answers:
            index = waiting[inspection_id]["task_instance"]["map_index"]
            entry = api.request(
                "GET",
                f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(ti['dag_run_id'], safe='')}/taskInstances/"
                f"approve_pack.record_decision/xcomEntries/return_value",
                params={"map_index": index},
            )
            said[inspection_id] = entry["value"]
        assert said["INS-IN"]["outcome"] == "approved"
        assert said["INS-NEAR"]["outcome"] == "rejected" and len(said["INS-NEAR"]["removed"]) == 3
    finally:
        if runner is not None and runner.poll() is None:
            runner.kill()
            runner.wait()
        api.stop()
