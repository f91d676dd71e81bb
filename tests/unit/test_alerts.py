"""Alerts, against a real HTTP webhook receiver (`http.server` on a free port in a thread, recording each
request): the JSON a failed task or run posts, the log line, secrets kept out of both, and a webhook that is
down, erring or slow never fails or holds up the caller. The DeadlineAlert callback is run the way
Airflow's triggerer runs it (`CallbackTrigger`), with the context the scheduler gives it.

`AlertReceiver` and `refused_url` are shared with tests/integration/test_pack_deadlines.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from probation_evidence.orchestration import alerts
from probation_evidence.orchestration.alerts import AlertNotifier


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class AlertReceiver:
    status: int = 200
    #: While set, every request is held unanswered until the receiver stops (or this is cleared).
    hold: threading.Event = field(default_factory=threading.Event)
    requests: list[Received] = field(default_factory=list)
    _released: threading.Event = field(default_factory=threading.Event)

    def start(self) -> AlertReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if receiver.hold.is_set():
                    receiver._released.wait(60)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/probation"

    def bodies(self, kind: str | None = None) -> list[dict]:
        return [r.body for r in self.requests if kind is None or r.body.get("kind") == kind]

    def stop(self) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()


def refused_url() -> str:
    """A URL on a local port nothing listens on (bound, then closed): connecting is refused."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/probation"


@pytest.fixture
def receiver():
    started = AlertReceiver().start()
    yield started
    started.stop()


@pytest.fixture
def webhook(monkeypatch, receiver):
    monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("ALERT_WEBHOOK_TOKEN", "hook-token-5f2c9a")
    monkeypatch.setenv("ALERT_WEBHOOK_TIMEOUT_SECONDS", "1")
    return receiver


RUN_ID = "scheduled__2026-09-30T06:00:00+00:00"


def task_context(exception: BaseException) -> dict:
    """The parts of a task's failure-callback context the notifier reads (tests/integration runs a real one)."""
    ti = SimpleNamespace(
        dag_id="ingest_staffing", task_id="extract_provider", run_id=RUN_ID, map_index=3, try_number=3,
        log_url="http://airflow.example/dags/ingest_staffing/runs/x/tasks/extract_provider/mapped/3?try_number=3",
    )  # fmt: skip
    return {"ti": ti, "task_instance": ti, "run_id": RUN_ID, "exception": exception,
            "logical_date": datetime(2026, 9, 30, 6, tzinfo=UTC)}  # fmt: skip


def notify_in_thread(notifier, context) -> threading.Thread:
    """Call the notifier as Airflow does (`notifier(context)`) in a thread: a hang shows as a live thread."""
    worker = threading.Thread(target=notifier, args=(context,), daemon=True)
    worker.start()
    worker.join(30)
    return worker


def test_a_failed_task_posts_its_alert_as_json_and_logs_it(webhook, caplog):
    caplog.set_level(logging.INFO, logger="probation_evidence.orchestration.alerts")
    AlertNotifier("task")(task_context(RuntimeError("provider N07 answered 503 five times")))

    [request] = webhook.requests
    assert request.path == "/hooks/probation"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer hook-token-5f2c9a"
    body = request.body
    assert body["source"] == "probation-evidence" and body["kind"] == "task_failed"
    assert (body["dag_id"], body["task_id"], body["run_id"]) == ("ingest_staffing", "extract_provider", RUN_ID)
    assert (body["map_index"], body["try_number"]) == (3, 3)
    assert body["error"] == "RuntimeError: provider N07 answered 503 five times"
    assert body["log_url"].endswith("/tasks/extract_provider/mapped/3?try_number=3")
    assert body["logical_date"] == "2026-09-30T06:00:00+00:00"
    assert "extract_provider[3] of ingest_staffing failed" in body["summary"]

    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT ")]
    assert line.startswith("ALERT task_failed: task extract_provider[3] of ingest_staffing failed for good")
    for shown in ("ingest_staffing", "extract_provider", RUN_ID, "try 3", "answered 503", body["log_url"]):
        assert shown in line
    delivered = [r.getMessage() for r in caplog.records if r.getMessage().startswith("alert task_failed posted")]
    assert delivered and "http://127.0.0.1:" in delivered[0] and "HTTP 200" in delivered[0]


def test_a_failed_dag_run_posts_a_run_alert(webhook):
    context = {**task_context(RuntimeError("x")), "reason": "task_failure"}
    del context["exception"]  # a DAG run's callback gets its last failed task's context, and the reason
    AlertNotifier("dag_run")(context)
    [body] = webhook.bodies()
    assert body["kind"] == "dag_run_failed"
    assert (body["dag_id"], body["run_id"], body["failed_task_id"]) == ("ingest_staffing", RUN_ID, "extract_provider")
    assert body["reason"] == "task_failure"
    assert (
        body["summary"]
        == f"DAG run {RUN_ID} of ingest_staffing failed (task_failure); last failed task extract_provider[3]"
    )


def test_no_secret_reaches_the_alert_or_the_log(webhook, caplog):
    from airflow.sdk.log import mask_secret

    mask_secret("conn-password-7d1e0b")  # as Connection.get does for a connection's password in a task
    error = RuntimeError(
        "connection to postgresql://loader:s3cr3t-pass@db:5432/wh failed; password=hunter2-xyz sslmode=require;"
        " token: abc.def.ghi; Authorization: Bearer eyJhbGciOi.payload.sig; conn-password-7d1e0b;"
        " hook-token-5f2c9a"
    )
    caplog.set_level(logging.INFO, logger="probation_evidence.orchestration.alerts")
    AlertNotifier("task")(task_context(error))

    [body] = webhook.bodies()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (
        "s3cr3t-pass",
        "hunter2-xyz",
        "abc.def.ghi",
        "eyJhbGciOi",
        "conn-password-7d1e0b",
        "hook-token-5f2c9a",
    ):
        assert secret not in json.dumps(body), secret
        assert secret not in logged, secret
    assert "postgresql://loader:***@db:5432/wh" in body["error"]
    assert "sslmode=require" in body["error"], "only the secrets are masked"
    assert "/hooks/probation" not in logged, "the webhook's path (which may hold a token) is never logged"


def test_without_a_webhook_the_alert_is_logged_only(monkeypatch, receiver, caplog):
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    caplog.set_level(logging.INFO, logger="probation_evidence.orchestration.alerts")
    AlertNotifier("task")(task_context(ValueError("bad")))
    assert receiver.requests == []
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("ALERT task_failed:") for m in messages)
    assert any("ALERT_WEBHOOK_URL is not set" in m for m in messages)


def test_a_webhook_that_refuses_connections_is_logged_and_the_task_goes_on(monkeypatch, caplog):
    monkeypatch.setenv("ALERT_WEBHOOK_URL", refused_url())
    caplog.set_level(logging.INFO, logger="probation_evidence.orchestration.alerts")
    worker = notify_in_thread(AlertNotifier("task"), task_context(RuntimeError("boom")))
    assert not worker.is_alive()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("NOT delivered" in m and "could not be reached" in m and "refused" in m.lower() for m in warnings), (
        warnings
    )
    assert any(m.startswith("ALERT task_failed:") for m in (r.getMessage() for r in caplog.records))


def test_a_slow_webhook_is_given_up_on_and_logged(webhook, caplog):
    webhook.hold.set()  # the receiver takes the request and does not answer
    caplog.set_level(logging.INFO, logger="probation_evidence.orchestration.alerts")
    worker = notify_in_thread(AlertNotifier("task"), task_context(RuntimeError("boom")))
    assert not worker.is_alive(), "the notifier returned although the webhook never answered"
    assert len(webhook.requests) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("did not answer within 1 s" in m and "in this log only" in m for m in warnings), warnings


def test_a_webhook_that_errs_is_logged_with_its_status(webhook, caplog):
    webhook.status = 500
    caplog.set_level(logging.INFO, logger="probation_evidence.orchestration.alerts")
    AlertNotifier("task")(task_context(RuntimeError("boom")))
    assert len(webhook.requests) == 1
    assert any("answered HTTP 500" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_a_context_it_cannot_read_still_raises_an_alert(webhook):
    class Unreadable:
        def __getattr__(self, name):
            raise RuntimeError(f"{name} is not available")

    AlertNotifier("dag_run")({"dag": object(), "ti": Unreadable()})
    [body] = webhook.bodies()
    assert body["kind"] == "dag_run_failed"


def test_a_pack_deadline_alert_names_the_inspection_and_no_person():
    late = {"inspection_id": "INS-2026-N07", "provider_id": "N07", "provider_name": "London",
            "inspection_type": "Regional inspection", "fieldwork_start_date": "2026-10-05", "days_left": 5}  # fmt: skip
    alert = alerts.pack_deadline_alert(late, date(2026, 9, 30), 14, "check_pack_deadlines", RUN_ID)
    assert alert["kind"] == "pack_deadline"
    assert {k: alert[k] for k in ("inspection_id", "provider_id", "fieldwork_start_date", "days_left")} == {
        "inspection_id": "INS-2026-N07", "provider_id": "N07", "fieldwork_start_date": "2026-10-05", "days_left": 5,
    }  # fmt: skip
    assert alert["summary"] == (
        "no evidence pack published for INS-2026-N07 (N07 London): fieldwork starts 2026-10-05, in 5 days"
    )
    with pytest.raises(alerts.PackDeadlineMissed, match=r"1 inspection\(s\) start within 14 days .* INS-2026-N07"):
        alerts.alert_late_packs([late], date(2026, 9, 30), 14, "check_pack_deadlines", RUN_ID)


def deadline_context() -> dict:
    """The context Airflow's scheduler gives a DeadlineAlert callback (models/deadline.py, handle_miss): the
    run as the REST API shows it (DAGRunResponse, JSON mode) and the deadline's id and time."""
    from airflow.api_fastapi.core_api.datamodels.dag_run import DAGRunResponse

    dag_run = {name: None for name in DAGRunResponse.model_fields}
    dag_run.update(
        dag_run_id="scheduled__2026-09-30T07:00:00+00:00", dag_id="publish_evidence_packs", state="running",
        logical_date="2026-09-30T07:00:00Z", queued_at="2026-09-30T07:00:02Z", run_type="scheduled",
    )  # fmt: skip
    return {
        "dag_run": dag_run,
        "deadline": {"id": "0199-dead", "deadline_time": datetime(2026, 9, 30, 9, 0, 2, tzinfo=UTC)},
    }


def run_callback_trigger(path: str, kwargs: dict) -> list[dict]:
    """Run Airflow's CallbackTrigger (what the triggerer runs for an AsyncCallback) to the end; its events."""
    from airflow.triggers.callback import CallbackTrigger

    async def collect():
        return [event.payload async for event in CallbackTrigger(callback_path=path, callback_kwargs=kwargs).run()]

    return asyncio.run(collect())


def test_the_deadline_callback_posts_when_a_run_overruns(webhook):
    from airflow.models.callback import CallbackState

    deadline = alerts.dag_run_deadline(minutes=90)
    assert deadline.callback.path == "probation_evidence.orchestration.alerts.alert_dag_run_deadline_missed"
    assert deadline.interval.total_seconds() == 90 * 60

    events = run_callback_trigger(deadline.callback.path, {**deadline.callback.kwargs, "context": deadline_context()})
    assert [e["state"] for e in events] == [CallbackState.RUNNING, CallbackState.SUCCESS], events
    [body] = webhook.bodies()
    assert body["kind"] == "dag_run_deadline_missed"
    assert (body["dag_id"], body["run_id"]) == ("publish_evidence_packs", "scheduled__2026-09-30T07:00:00+00:00")
    assert body["deadline_time"] == "2026-09-30T09:00:02+00:00"
    assert body["queued_at"] == "2026-09-30T07:00:02Z"
    assert events[-1]["body"].startswith("posted to http://127.0.0.1:")


def test_the_deadline_callback_never_fails_the_triggerer_when_the_webhook_is_down(monkeypatch):
    from airflow.models.callback import CallbackState

    monkeypatch.setenv("ALERT_WEBHOOK_URL", refused_url())
    path = alerts.dag_run_deadline(minutes=60).callback.path
    events = run_callback_trigger(path, {"context": deadline_context()})
    assert events[-1]["state"] == CallbackState.SUCCESS
    assert events[-1]["body"].startswith("NOT delivered")


@pytest.mark.parametrize("minutes", ["30", "240"])
def test_the_run_deadline_is_a_setting(monkeypatch, minutes):
    monkeypatch.setenv("DAG_RUN_DEADLINE_MINUTES", minutes)
    assert alerts.dag_run_deadline().interval.total_seconds() == float(minutes) * 60


def test_no_run_deadline_unless_it_is_set(monkeypatch):
    """Off by default: Airflow 3.3.2's DAG.test() fails a successful run of a DAG with a DeadlineAlert
    (tests/integration/test_pack_deadlines.py keeps watch on that)."""
    monkeypatch.delenv("DAG_RUN_DEADLINE_MINUTES", raising=False)
    assert alerts.dag_run_deadline() is None
    monkeypatch.setenv("DAG_RUN_DEADLINE_MINUTES", "0")
    assert alerts.dag_run_deadline() is None
