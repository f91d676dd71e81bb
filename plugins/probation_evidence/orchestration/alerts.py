"""Alerts: a task or DAG run that failed, an inspection close with no pack published, a run past its deadline.

Every alert is one JSON object (`source`, `kind`, `summary`, `raised_at` and the fields of its kind). It is
always logged, as one line beginning `ALERT <kind>:`, and, when `ALERT_WEBHOOK_URL` is set, POSTed there as
JSON (`ALERT_WEBHOOK_TOKEN`, if set, as a bearer token). Delivery has an overall time limit
(`ALERT_WEBHOOK_TIMEOUT_SECONDS`); a webhook that refuses, errs or is slow is logged and given up on, and
never fails or holds up the task or callback that raised the alert.

No secret reaches an alert or its log line: error messages are passed through Airflow's secrets masker
(which knows every connection password the process has read) and stripped of URL passwords,
`password=`/`token=` pairs and bearer tokens; the webhook's own URL (which may carry a token) is logged
as scheme, host and port only.

Three senders share this:
- `AlertNotifier`, a BaseNotifier: `on_failure_callback` of every task (scope "task", in DEFAULT_ARGS) and
  of every DAG (scope "dag_run");
- `check_pack_deadlines` (the DAG of that name): one alert per inspection whose fieldwork starts within
  `PACK_DEADLINE_DAYS` of the run's date with no pack recorded in audit.pack_publications;
- `alert_dag_run_deadline_missed`, the callback of Airflow's DeadlineAlert (`dag_run_deadline()`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from airflow.sdk import BaseNotifier

# From their defining modules: airflow.sdk exports them too, but its type stub does not list them.
from airflow.sdk.definitions.callback import AsyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

from probation_evidence import settings
from probation_evidence.warehouse import read_sql

log = logging.getLogger(__name__)

SOURCE = "probation-evidence"
#: Longest error text carried by an alert; the task log has the rest.
MAX_ERROR_CHARS = 2000
MASK = "***"

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@", re.IGNORECASE)
_KEY_VALUE = re.compile(
    r"(?P<key>\b[\w.-]*(?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?key)['\"]?\s*[=:]\s*['\"]?)"
    r"[^\s'\",;&)}]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(?P<scheme>bearer)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def scrub(text: Any) -> str:
    """`text` as a string with every secret we can recognise replaced by ***, cut to MAX_ERROR_CHARS."""
    text = str(text)
    try:  # a private module of Airflow's: imported here so that its absence is only a logged miss
        from airflow.sdk._shared.secrets_masker import redact

        text = str(redact(text))  # every connection password and variable secret this process has seen
    except Exception:  # the masker is a help, not a condition: the patterns below still apply
        log.debug("Airflow's secrets masker is unavailable", exc_info=True)
    token = settings.alert_webhook_token()
    if token:
        text = text.replace(token, MASK)
    text = _URL_PASSWORD.sub(rf"\g<head>{MASK}@", text)
    text = _KEY_VALUE.sub(rf"\g<key>{MASK}", text)
    text = _BEARER.sub(rf"\g<scheme> {MASK}", text)
    if len(text) > MAX_ERROR_CHARS:
        text = text[:MAX_ERROR_CHARS] + " [cut; the task log has the rest]"
    return text


def webhook_host(url: str) -> str:
    """The webhook as scheme://host:port, safe to log (its path and query may hold a token)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def post_alert(alert: dict, url: str | None = None, token: str | None = None, timeout: float | None = None) -> str:
    """POST `alert` as JSON to the webhook; what happened, as a phrase. Never raises, never outlasts `timeout`.

    The request runs in a daemon thread that is waited for at most `timeout` seconds in all: urllib's own
    timeout bounds each socket operation, not a server that trickles its answer a byte at a time.
    """
    url = url or settings.alert_webhook_url()
    if not url:
        return "not posted: ALERT_WEBHOOK_URL is not set (alerts are logged only)"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "not posted: ALERT_WEBHOOK_URL is not an http(s) URL"
    token = token or settings.alert_webhook_token()
    timeout = settings.alert_webhook_timeout_seconds() if timeout is None else timeout
    host = webhook_host(url)
    headers = {"Content-Type": "application/json", "User-Agent": f"{SOURCE}-alerts"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(alert, sort_keys=True, default=str).encode("utf-8")
    outcome: dict[str, str] = {}

    def deliver() -> None:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) only)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
                outcome["done"] = f"posted to {host} (HTTP {response.status})"
        except urllib.error.HTTPError as error:
            outcome["done"] = f"NOT delivered: {host} answered HTTP {error.code}"
        except Exception as error:  # refused, reset, TLS, DNS: all the same to the caller
            reason = getattr(error, "reason", None) or error
            if isinstance(reason, TimeoutError):
                outcome["done"] = f"NOT delivered: {host} did not answer within {timeout:g} s"
            else:
                outcome["done"] = f"NOT delivered: {host} could not be reached ({scrub(reason).replace(url, host)})"

    worker = threading.Thread(target=deliver, name="alert-webhook", daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    return outcome.get("done") or f"NOT delivered: {host} did not answer within {timeout:g} s"


def raise_alert(alert: dict) -> str:
    """Log the alert (one line beginning `ALERT <kind>:`) and post it to the webhook; how it went. Never raises."""
    try:
        details = {k: v for k, v in alert.items() if k not in {"kind", "summary"}}
        log.error("ALERT %s: %s | %s", alert.get("kind"), alert.get("summary"), json.dumps(details, default=str))
        outcome = post_alert(alert)
    except Exception as error:  # an alert must never become the failure
        outcome = f"NOT delivered: {type(error).__name__}"
        log.warning("alert %s could not be sent", alert.get("kind"), exc_info=True)
    if outcome.startswith("NOT"):
        log.warning("alert %s %s; it is in this log only", alert.get("kind"), outcome)
    else:
        log.info("alert %s %s", alert.get("kind"), outcome)
    return outcome


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _base_url() -> str:
    try:  # an alert raised where Airflow's configuration cannot load still goes out, with the default URL
        from airflow.sdk.configuration import conf

        return conf.get("api", "base_url", fallback="http://localhost:8080/").rstrip("/")
    except Exception:
        return "http://localhost:8080"


def failure_alert(context: dict, scope: str = "task") -> dict:
    """The alert for a failed task (scope "task") or DAG run ("dag_run"), from the callback's context.

    Airflow gives a task's failure callback the task's context with `exception`; a DAG run's failure callback
    gets the context of the run's last failed task instance (or just `dag` and `run_id`) with `reason`.
    """
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    dag_run = context.get("dag_run")
    dag_id = getattr(dag, "dag_id", None) or getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None)
    run_id = context.get("run_id") or getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None)
    task_id = getattr(ti, "task_id", None)
    map_index = getattr(ti, "map_index", None)
    try_number = getattr(ti, "try_number", None)
    logical_date = context.get("logical_date") or getattr(dag_run, "logical_date", None)
    exception = context.get("exception")
    error = scrub(f"{type(exception).__name__}: {exception}") if isinstance(exception, BaseException) else None
    if error is None and exception:
        error = scrub(exception)
    try:
        log_url = ti.log_url if ti is not None else f"{_base_url()}/dags/{dag_id}/runs/{run_id}"
    except Exception:
        log_url = f"{_base_url()}/dags/{dag_id}/runs/{run_id}"
    shown_task = f"{task_id}[{map_index}]" if map_index is not None and map_index >= 0 else task_id
    if scope == "dag_run":
        reason = scrub(context.get("reason") or "failed")
        summary = f"DAG run {run_id} of {dag_id} failed ({reason})" + (
            f"; last failed task {shown_task}" if task_id else ""
        )
        alert = {"kind": "dag_run_failed", "reason": reason, "failed_task_id": task_id}
    else:
        summary = f"task {shown_task} of {dag_id} failed for good (run {run_id}, try {try_number})" + (
            f": {error}" if error else ""
        )
        alert = {"kind": "task_failed", "task_id": task_id, "try_number": try_number}
    return {
        "source": SOURCE,
        **alert,
        "summary": summary,
        "dag_id": dag_id,
        "run_id": run_id,
        "map_index": map_index if map_index is not None and map_index >= 0 else None,
        "logical_date": _iso(logical_date),
        "error": error,
        "log_url": log_url,
        "raised_at": _now(),
    }


class AlertNotifier(BaseNotifier):
    """Raise an alert (log line + webhook) for a failed task or DAG run; an `on_failure_callback`.

    scope "task" goes in a DAG's default_args (every task's on_failure_callback: runs once the task has
    failed for good, after its retries); scope "dag_run" on the DAG itself. Never raises: a broken alert
    path is logged, and the task's or run's own outcome stands.
    """

    template_fields = ()

    def __init__(self, scope: str = "task"):
        super().__init__()
        if scope not in {"task", "dag_run"}:
            raise ValueError(f"scope must be 'task' or 'dag_run', not {scope!r}")
        self.scope = scope

    def __call__(self, *args) -> None:
        try:
            super().__call__(*args)
        except Exception:  # notify() never raises; this is BaseNotifier's own rendering failing
            log.warning("the %s failure alert could not be raised", self.scope, exc_info=True)

    def render_template_fields(self, context, jinja_env=None) -> None:
        """Nothing to render (no template fields): skip building a Jinja environment from the DAG."""
        if self.template_fields:
            super().render_template_fields(context, jinja_env)

    def notify(self, context) -> None:
        try:
            alert = failure_alert(context, self.scope)
        except Exception as error:
            log.warning("could not read the failure's context; alerting with what is known", exc_info=True)
            alert = {
                "source": SOURCE,
                "kind": "task_failed" if self.scope == "task" else "dag_run_failed",
                "summary": f"a {self.scope} failed (its context could not be read: {type(error).__name__})",
                "raised_at": _now(),
            }
        raise_alert(alert)

    def __repr__(self) -> str:
        return f"AlertNotifier(scope={self.scope!r})"


#: Every task's failure callback (DEFAULT_ARGS) and every DAG's (the `on_failure_callback` of each @dag).
TASK_FAILURE_ALERT = AlertNotifier("task")
DAG_RUN_FAILURE_ALERT = AlertNotifier("dag_run")


# ----------------------------------------------------------------------------------------- pack deadlines

_LATE_PACKS_SQL = read_sql("probation_evidence.orchestration", "late_packs")


class PackDeadlineMissed(RuntimeError):
    """Some inspection starts within the deadline window and has no published pack."""


def find_late_packs(warehouse_url: str, run_date: date, deadline_days: int | None = None) -> list[dict]:
    """Inspections whose fieldwork starts on `run_date` or within `deadline_days` after it (default
    PACK_DEADLINE_DAYS) with no pack version recorded in audit.pack_publications; soonest first.

    Read as the publisher role, which reads marts.dim_inspection and audit.pack_publications and nothing
    it does not need.
    """
    # Imported when the check runs: DAG files import this module while Airflow parses them.
    import psycopg
    from psycopg.rows import dict_row

    days = settings.pack_deadline_days() if deadline_days is None else deadline_days
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(f"set role {settings.PUBLISHER_ROLE}")
        rows = conn.cursor(row_factory=dict_row).execute(
            _LATE_PACKS_SQL, [run_date, run_date, run_date + timedelta(days=days)]
        ).fetchall()  # fmt: skip
    return [{key: _iso(value) if isinstance(value, date) else value for key, value in row.items()} for row in rows]


def pack_deadline_alert(late: dict, run_date: date, deadline_days: int, dag_id: str, run_id: str) -> dict:
    """The alert for one inspection with no pack: ids, provider, fieldwork start and days left (no names
    of people: the pipeline holds none)."""
    days = late["days_left"]
    when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
    return {
        "source": SOURCE,
        "kind": "pack_deadline",
        "summary": (
            f"no evidence pack published for {late['inspection_id']} ({late['provider_id']}"
            f"{' ' + late['provider_name'] if late.get('provider_name') else ''}): fieldwork starts"
            f" {late['fieldwork_start_date']}, {when}"
        ),
        "inspection_id": late["inspection_id"],
        "provider_id": late["provider_id"],
        "provider_name": late.get("provider_name"),
        "inspection_type": late.get("inspection_type"),
        "fieldwork_start_date": late["fieldwork_start_date"],
        "days_left": days,
        "deadline_days": deadline_days,
        "run_date": run_date.isoformat(),
        "dag_id": dag_id,
        "run_id": run_id,
        "raised_at": _now(),
    }


def alert_late_packs(late: list[dict], run_date: date, deadline_days: int, dag_id: str, run_id: str) -> list[str]:
    """One alert per late inspection; then PackDeadlineMissed, naming them and what to do, if there was any."""
    outcomes = [raise_alert(pack_deadline_alert(row, run_date, deadline_days, dag_id, run_id)) for row in late]
    if late:
        named = ", ".join(f"{row['inspection_id']} ({row['days_left']} days left)" for row in late[:10])
        more = f" and {len(late) - 10} more" if len(late) > 10 else ""
        raise PackDeadlineMissed(
            f"{len(late)} inspection(s) start within {deadline_days} days of {run_date} with no evidence pack"
            f" published: {named}{more}. Publish them (probation-evidence pack --inspection <id>, or rerun"
            " publish_evidence_packs once the marts are 'passed') and check why publish_evidence_packs did not."
        )
    return outcomes


# ------------------------------------------------------------------------------------ DAG-run deadlines


def dag_run_deadline_alert(context: dict) -> dict:
    """The alert for a DAG run past its DeadlineAlert, from the context Airflow's scheduler passes the
    callback: `dag_run` (the run as the REST API shows it, JSON-ready) and `deadline` (`id`, `deadline_time`)."""
    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    dag_id, run_id = dag_run.get("dag_id"), dag_run.get("dag_run_id")
    deadline_time = _iso(deadline.get("deadline_time"))
    return {
        "source": SOURCE,
        "kind": "dag_run_deadline_missed",
        "summary": f"DAG run {run_id} of {dag_id} had not finished by its deadline {deadline_time}",
        "dag_id": dag_id,
        "run_id": run_id,
        "state": dag_run.get("state"),
        "logical_date": _iso(dag_run.get("logical_date")),
        "queued_at": _iso(dag_run.get("queued_at")),
        "deadline_time": deadline_time,
        "log_url": f"{_base_url()}/dags/{dag_id}/runs/{run_id}" if dag_id and run_id else None,
        "raised_at": _now(),
    }


async def alert_dag_run_deadline_missed(context: dict | None = None, **_: Any) -> str:
    """DeadlineAlert callback (an AsyncCallback: the triggerer awaits it): log and post the alert.

    The POST runs in a worker thread so the triggerer's event loop is never blocked.
    """
    return await asyncio.to_thread(raise_alert, dag_run_deadline_alert(context or {}))


def dag_run_deadline(minutes: float | None = None):
    """Airflow's DeadlineAlert for a DAG: alert when a run is unfinished `minutes` (default
    DAG_RUN_DEADLINE_MINUTES) after it was queued; None (no deadline) when that is 0."""
    minutes = settings.dag_run_deadline_minutes() if minutes is None else minutes
    if minutes <= 0:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=minutes),
        callback=AsyncCallback(alert_dag_run_deadline_missed),
        name="alert when a run is unfinished long after it was queued",
    )
