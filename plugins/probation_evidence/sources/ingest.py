"""The work behind the ingest DAGs, as plain functions: extract one provider's submissions into the landing
zone, load landed files, and record what each provider submitted. DAG tasks call these; tests call them too.

Every function returns plain JSON-able dicts (they travel through XCom). A problem with one file or one
slice is recorded and reported, never allowed to stop the provider's other slices or other providers.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Generator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from probation_evidence import settings
from probation_evidence.reference.periods import expected_periods
from probation_evidence.reference.registry import load_regions
from probation_evidence.sources.connectors.api_errors import SourceError
from probation_evidence.sources.connectors.drop_cells import FileDropError
from probation_evidence.sources.connectors.drop_folders import DropEvent, survey
from probation_evidence.sources.connectors.file_drop import read_drop_file
from probation_evidence.sources.connectors.provider_api import entity_url, fetch_entity
from probation_evidence.sources.contracts import CONTRACTS, Contract, family_contracts
from probation_evidence.sources.landing import Manifest, land_table
from probation_evidence.sources.loading import load_landed_file
from probation_evidence.warehouse import read_sql

_SQL = "probation_evidence.sources"
_UPSERT_SUBMISSION = read_sql(_SQL, "upsert_submission")
_UPSERT_DROP_EVENT = read_sql(_SQL, "upsert_drop_event")
_LOADED_SLICES = read_sql(_SQL, "loaded_slices")
_DELETE_UNSEEN_DROP_EVENTS = read_sql(_SQL, "delete_unseen_drop_events")
_CURRENT_BATCHES = read_sql(_SQL, "current_batches")


def provider_ids() -> list[str]:
    return [region.region_code for region in load_regions()]


def expected_submissions(family: str, run_date: date) -> list[tuple[Contract, date]]:
    """(contract, period end) for every submission a provider owes for this family by the run date."""
    return [(c, period) for c in family_contracts(family) for period in expected_periods(c.frequency, run_date)]


class StageClock:
    """Seconds spent per stage of one task (fetching or reading the source, landing), summed over its slices:
    returned with the task's result, so a slow run shows where its time went (and the scale benchmark
    splits extract from land with it)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"extract": 0.0, "land": 0.0}

    @contextlib.contextmanager
    def stage(self, name: str) -> Generator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - started

    def to_dict(self) -> dict[str, float]:
        return {name: round(value, 3) for name, value in self.seconds.items()}


def _error(contract: Contract, period: date, path: str, reason: str) -> dict:
    return {"entity": contract.entity, "period_end_date": period.isoformat(), "path": path, "reason": reason}


def extract_api(family: str, provider_id: str, run_date: date, base_url: str, token: str, root=None) -> dict:
    """Fetch every entity of an API family for one provider and land each as Parquet + manifest.

    A slice whose fetch fails (the provider broke its contract, schema drift, a cap or deadline passed) or
    whose landing fails (disk full) is reported in "errors" and the other slices go on. A failure of the
    provider's system rather than of one entity (no complete response after every retry, the deadline
    passing mid-response, the token refused) trips a breaker: the remaining slices are reported failed with
    that cause, unrequested, so a dead host costs one retry budget, not one per entity.
    """
    root = root or settings.landing_dir()
    manifests, errors = [], []
    clock = StageClock()
    broken: SourceError | None = None
    for contract, period in expected_submissions(family, run_date):
        url = entity_url(base_url, provider_id, contract.entity)
        if broken is not None:
            reason = f"not requested: {broken.entity} showed the provider's API unusable this run ({broken})"
            errors.append(_error(contract, period, url, reason))
            continue
        try:
            with clock.stage("extract"):
                table = fetch_entity(base_url, token, provider_id, contract.entity, period)
        except SourceError as error:
            errors.append(_error(contract, period, error.url, str(error)))
            broken = error if error.host_level else None
            continue
        except Exception as error:  # anything else about this entity's data fails its slice, not the provider
            logging.getLogger(__name__).exception("%s %s for %s failed", family, contract.entity, provider_id)
            errors.append(_error(contract, period, url, f"{type(error).__name__}: {error}"))
            continue
        try:
            with clock.stage("land"):
                manifest = land_table(table, contract, provider_id, period, root)
        except OSError as error:
            errors.append(_error(contract, period, url, f"landing failed: {error}"))
            continue
        manifests.append({**manifest.to_dict(), "received_at": None})
    return {"family": family, "provider_id": provider_id, "manifests": manifests, "errors": errors,
            "seconds": clock.to_dict()}  # fmt: skip


def _unexpected_drop(drop, file_name: str, family: str, run_date: date):
    """The event for a readable drop file this run does not load, or None when nothing is wrong with it.

    Nothing is wrong with a file for a period a later run will expect (this is a run for a past date): it is
    left alone. Reported: an entity no contract of the family has, a date that is not the end of one of the
    entity's periods, a period that has not ended yet, and a period older than this run's window (a late
    return or a correction that only a run for its date, a backfill, would load). `record_submissions` drops
    the last kind when the slice already holds a loaded batch: that file is history, not news.
    """
    contract = next((c for c in family_contracts(family) if c.entity == drop.entity), None)
    if contract is None:
        elsewhere = sorted(source for source, entity in CONTRACTS if entity == drop.entity)
        hint = f" (it is an entity of {', '.join(elsewhere)}: dropped in the wrong folder?)" if elsewhere else ""
        detail = f"no {family} contract has the entity {drop.entity!r}{hint}: not read"
    elif drop.period > max(run_date, datetime.now(UTC).date()):
        detail = f"its period end {drop.period} is in the future (a wrong date in the name?): not read"
    elif expected_periods(contract.frequency, drop.period, count=1) != [drop.period]:
        detail = (
            f"{drop.period} is not the end of a {contract.frequency} period of {drop.entity}: not read (the name "
            "must carry the period's last day)"
        )
    elif drop.period < (window := expected_periods(contract.frequency, run_date))[0]:
        detail = (
            f"its period end {drop.period} is before this run's window ({window[0]} to {window[-1]}) and the "
            "slice has no loaded batch: not read (a run for that date, a backfill, loads it)"
        )
    else:
        return None
    return DropEvent(file_name, "unexpected", detail, drop.entity, drop.period, drop.received_at)


def extract_files(family: str, provider_id: str, run_date: date, drops=None, root=None) -> dict:
    """Land every expected file a provider has dropped for this family; unreadable files are reported.

    Files still being written (modified within DROP_SETTLE_SECONDS, or named as uploads in progress) wait
    for a later run; of two files for one slice the later modified is read. Those, links, and files for
    entities or periods no contract expects come back as "drop_events" (recorded in audit.drop_file_events).
    """
    root = root or settings.landing_dir()
    drops_root = Path(drops or settings.drops_dir())
    expected = {(c.entity, period): c for c, period in expected_submissions(family, run_date)}
    found = survey(drops_root, family, provider_id, settle_seconds=settings.drop_settle_seconds())
    manifests, errors, events = [], [], list(found.events)
    clock = StageClock()
    for drop in found.files:
        contract = expected.get((drop.entity, drop.period))
        if contract is None:
            event = _unexpected_drop(drop, drop.path.relative_to(drops_root).as_posix(), family, run_date)
            events += [event] if event else []
            continue
        try:
            with clock.stage("extract"):
                table = read_drop_file(drop.path, contract)
        except FileDropError as error:
            errors.append(_error(contract, drop.period, str(drop.path), str(error)))
            continue
        try:
            with clock.stage("land"):
                manifest = land_table(table, contract, provider_id, drop.period, root).to_dict()
        except OSError as error:  # a full disk or a dead mount fails this slice, not the provider's others
            errors.append(_error(contract, drop.period, str(drop.path), f"could not be landed: {error}"))
            continue
        manifests.append({**manifest, "received_at": drop.received_at.isoformat()})
    drop_events = [e.to_dict() for e in sorted(events, key=lambda e: (e.file_name, e.event))]
    return {"family": family, "provider_id": provider_id, "manifests": manifests, "errors": errors,
            "drop_events": drop_events, "seconds": clock.to_dict()}  # fmt: skip


def load_extracted(warehouse_url: str, extracted: dict, root=None) -> dict:
    """Load each landed file as its slice's current batch; each slice is its own transaction.

    Any failure while loading a slice (schema drift, a landed file that no longer matches its manifest, an
    encoder or server error mid-COPY, the connection being cut) is that slice's error: its transaction has
    rolled back, and the provider's other slices still load, on a new connection if the old one broke.
    A warehouse that cannot be connected to at all fails the task instead, so that Airflow retries it.
    """
    log = logging.getLogger(__name__)
    results, errors = [], list(extracted["errors"])
    conn = None
    started = time.perf_counter()
    try:
        for data in extracted["manifests"]:
            manifest = Manifest.from_dict(data)
            if conn is None:  # not caught: a warehouse that cannot be reached fails the task, to be retried
                conn = psycopg.connect(warehouse_url)
            try:
                result = load_landed_file(conn, manifest, root).to_dict()
            except Exception as error:  # a bad slice stops only itself
                reason = str(error) if manifest.path in str(error) else f"{manifest.path}: {error}"
                log.error("slice %s failed to load: %s", manifest.batch_id, reason)
                errors.append({"entity": manifest.entity, "period_end_date": manifest.period_end_date,
                               "path": manifest.path, "reason": reason})  # fmt: skip
                if conn is not None and (conn.closed or conn.broken):
                    conn.close()
                    conn = None
                continue
            results.append({**result, "received_at": data.get("received_at")})
    finally:
        if conn is not None:
            conn.close()
    seconds = {**extracted.get("seconds", {}), "load": round(time.perf_counter() - started, 3)}
    return {**extracted, "results": results, "errors": errors, "seconds": seconds}


def _status(received_at: datetime | None, due: date, run_date: date, loaded: bool) -> str:
    if loaded:
        return "late" if received_at is not None and received_at.date() > due else "on_time"
    return "missing" if due < run_date else "not_yet_due"


def analyze_loaded_tables(warehouse_url: str, outcomes: list[dict | None]) -> list[str]:
    """ANALYZE every raw table this run loaded new batches into, as the loader role (their owner); returns
    their names. The transform that follows then plans from statistics that count the new rows: a week's
    batches are read through the batch index, not by a scan of the whole history, which is what PostgreSQL
    chose at 8 years of history without them (autovacuum's analyze comes minutes later, or never where it is
    turned off). A rerun that loaded nothing analyzes nothing."""
    tables = sorted(
        {
            (result["source"], result["entity"])
            for outcome in outcomes
            if outcome
            for result in outcome.get("results", [])
            if result.get("status") == "loaded"
        }
    )
    if not tables:
        return []
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(f"set role {settings.LOADER_ROLE}")
        for source, entity in tables:
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier("raw", f"{source}_{entity}")))
    return [f"raw.{source}_{entity}" for source, entity in tables]


def record_submissions(
    warehouse_url: str, family: str, run_date: date, outcomes: list[dict | None], providers: list[str] | None = None
) -> dict:
    """Upsert audit.submissions for every provider and expected slice; returns a summary of the run.

    A slice's status comes from what this run saw: loaded (on time or late, by the file's arrival), failed
    (its file could not be read or loaded), or missing / not yet due. A slice this run did not see (a file
    loaded by an earlier run and since cleared from the drop folder) keeps its row: what is in
    audit.load_batches is still its data. A slice whose latest attempt failed (its own error, or its
    provider's task failed) but which holds a batch loaded earlier keeps that batch and status, with the
    failure in `detail`; it still counts as failed in the summary so that the run fails and is seen.
    Each outcome's drop-file events go to audit.drop_file_events in the same transaction. Rows change only
    when something about the submission changed, so a rerun leaves both tables as they were.
    """
    by_provider = {o["provider_id"]: o for o in outcomes if o}
    expected = expected_submissions(family, run_date)
    providers = providers or provider_ids()
    rows: list[tuple] = []
    summary: dict[str, Any] = {"family": family, "loaded": 0, "late": 0, "missing": 0, "failed": 0, "errors": []}
    with psycopg.connect(warehouse_url) as conn, conn.transaction(), conn.cursor() as cur:
        cur.execute(f"set local role {settings.LOADER_ROLE}")
        current = _current_batches(cur, family, providers, sorted({period for _, period in expected}))
        for provider_id in providers:
            outcome = by_provider.get(provider_id)
            results = {(r["entity"], r["period_end_date"]): r for r in (outcome or {}).get("results", [])}
            errors = {(e["entity"], e["period_end_date"]): e for e in (outcome or {}).get("errors", [])}
            for contract, period in expected:
                key = (contract.entity, period.isoformat())
                due = period + timedelta(days=contract.due_days)
                result, error, kept = results.get(key), errors.get(key), current.get((provider_id, *key))
                failure = error["reason"] if error else None
                if outcome is None:
                    failure = "the provider's extract or load task failed: see its log"
                if result is not None:
                    received = result.get("received_at")
                    received_at = datetime.fromisoformat(received) if received else None
                    status, batch_id, detail = _status(received_at, due, run_date, True), result["batch_id"], failure
                elif kept is not None:  # loaded by an earlier run: that batch is still the slice's data
                    batch_id, loaded_at, old_status, old_received, old_batch, old_detail = kept
                    same = old_batch == batch_id and old_status in ("on_time", "late")
                    received_at = old_received if same else None
                    status = old_status if same else _status(loaded_at, due, run_date, True)
                    detail = old_detail if failure is None else f"latest attempt failed, batch kept: {failure}"
                elif failure is not None:  # a slice of a failed task that owed nothing yet is still not yet due
                    owed = error is not None or _status(None, due, run_date, False) != "not_yet_due"
                    status, received_at, batch_id, detail = "failed" if owed else "not_yet_due", None, None, failure
                else:
                    status, received_at, batch_id, detail = _status(None, due, run_date, False), None, None, None
                rows.append((family, contract.entity, provider_id, period, due, status, received_at, batch_id,
                             detail, batch_id))  # fmt: skip
                summary["loaded"] += result is not None
                summary["late"] += result is not None and status == "late"
                summary["missing"] += status == "missing"
                summary["failed"] += failure is not None
                if failure is not None:
                    summary["errors"].append(f"{provider_id} {contract.entity} {period}: {failure}")
        cur.executemany(_UPSERT_SUBMISSION, rows)
        _record_drop_events(cur, family, [o for o in outcomes if o])
    return summary


def _record_drop_events(cur, family: str, outcomes: list[dict]) -> None:
    """audit.drop_file_events as the drop folders stand after this run, for each provider whose extract ran.

    An event no longer seen (the file in motion was read, the superseded file removed) is deleted; an
    'unexpected' file of an old period whose slice holds a loaded batch is history and is not recorded.
    A rerun over the same folders changes no row.
    """
    fields = ("file_name", "event", "entity", "period_end_date", "detail", "file_modified_at")
    providers = sorted({o["provider_id"] for o in outcomes})
    if not providers:
        return
    cur.execute(_LOADED_SLICES, [family, providers])
    loaded = set(cur.fetchall())
    for outcome in outcomes:
        provider_id = outcome["provider_id"]
        events = [
            e
            for e in outcome.get("drop_events") or []
            if not (e["event"] == "unexpected" and (provider_id, e.get("entity"), e.get("period_end_date")) in loaded)
        ]
        cur.execute(
            _DELETE_UNSEEN_DROP_EVENTS,
            [family, provider_id, [f"{e['file_name']}|{e['event']}" for e in events]],
        )
        if events:
            cur.executemany(_UPSERT_DROP_EVENT, [(family, provider_id, *(e.get(n) for n in fields)) for e in events])


def _current_batches(cur, family: str, providers: list[str], periods: list[date]) -> dict:
    """{(provider, entity, period iso): (batch_id, loaded_at, status, received_at, batch_id, detail)} for
    every slice of these providers and periods with a loaded batch, with its current submissions row."""
    cur.execute(_CURRENT_BATCHES, [family, providers, periods])
    return {(p, e, period.isoformat()): tuple(rest) for p, e, period, *rest in cur.fetchall()}
