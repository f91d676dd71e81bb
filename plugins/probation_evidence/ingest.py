"""The work behind the ingest DAGs, as plain functions: extract one provider's submissions into the landing
zone, load landed files, and record what each provider submitted. DAG tasks call these; tests call them too.

Every function returns plain JSON-able dicts (they travel through XCom). A problem with one file or one
slice is recorded and reported, never allowed to stop the provider's other slices or other providers.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from probation_evidence import settings
from probation_evidence.contracts import Contract, family_contracts


def provider_ids() -> list[str]:
    from probation_evidence.registry import load_regions

    return [region.region_code for region in load_regions()]


def transport(family: str) -> str:
    """'api' or 'file': how a family's systems deliver (all of a family's entities arrive the same way)."""
    kinds = {c.transport for c in family_contracts(family)}
    if len(kinds) != 1:
        raise ValueError(f"source family {family} mixes transports {sorted(kinds)}")
    return kinds.pop()


def expected_submissions(family: str, run_date: date) -> list[tuple[Contract, date]]:
    """(contract, period end) for every submission a provider owes for this family by the run date."""
    from probation_evidence.periods import expected_periods

    return [(c, period) for c in family_contracts(family) for period in expected_periods(c.frequency, run_date)]


def _error(contract: Contract, period: date, path: str, reason: str) -> dict:
    return {"entity": contract.entity, "period_end_date": period.isoformat(), "path": path, "reason": reason}


def extract_api(family: str, provider_id: str, run_date: date, base_url: str, token: str, root=None) -> dict:
    """Fetch every entity of an API family for one provider and land each as Parquet + manifest."""
    from probation_evidence.connectors.provider_api import fetch_entity
    from probation_evidence.landing import land_table

    root = root or settings.landing_dir()
    manifests = []
    for contract, period in expected_submissions(family, run_date):
        table = fetch_entity(base_url, token, provider_id, contract.entity, period)
        manifests.append({**land_table(table, contract, provider_id, period, root).to_dict(), "received_at": None})
    return {"family": family, "provider_id": provider_id, "manifests": manifests, "errors": []}


def extract_files(family: str, provider_id: str, run_date: date, drops=None, root=None) -> dict:
    """Land every expected file a provider has dropped for this family; unreadable files are reported."""
    from probation_evidence.connectors.file_drop import FileDropError, discover, read_drop_file
    from probation_evidence.landing import land_table

    root = root or settings.landing_dir()
    expected = {(c.entity, period): c for c, period in expected_submissions(family, run_date)}
    manifests, errors = [], []
    for drop in discover(Path(drops or settings.drops_dir()), family, provider_id):
        contract = expected.get((drop.entity, drop.period))
        if contract is None:
            continue  # not a period this run is responsible for (older, or not yet due)
        try:
            table = read_drop_file(drop.path, contract)
        except FileDropError as error:
            errors.append(_error(contract, drop.period, str(drop.path), str(error)))
            continue
        manifest = land_table(table, contract, provider_id, drop.period, root).to_dict()
        manifests.append({**manifest, "received_at": drop.received_at.isoformat()})
    return {"family": family, "provider_id": provider_id, "manifests": manifests, "errors": errors}


def load_extracted(warehouse_url: str, extracted: dict, root=None) -> dict:
    """Load each landed file as its slice's current batch; each slice is its own transaction."""
    import psycopg

    from probation_evidence.landing import Manifest
    from probation_evidence.loading import SchemaDriftError, load_landed_file

    results, errors = [], list(extracted["errors"])
    with psycopg.connect(warehouse_url) as conn:
        for data in extracted["manifests"]:
            manifest = Manifest.from_dict(data)
            try:
                result = load_landed_file(conn, manifest, root).to_dict()
            except SchemaDriftError as error:
                errors.append({"entity": manifest.entity, "period_end_date": manifest.period_end_date,
                               "path": manifest.path, "reason": str(error)})  # fmt: skip
                continue
            results.append({**result, "received_at": data.get("received_at")})
    return {**extracted, "results": results, "errors": errors}


def _status(received_at: datetime | None, due: date, run_date: date, loaded: bool) -> str:
    if loaded:
        return "late" if received_at is not None and received_at.date() > due else "on_time"
    return "missing" if due < run_date else "not_yet_due"


def record_submissions(
    warehouse_url: str, family: str, run_date: date, outcomes: list[dict | None], providers: list[str] | None = None
) -> dict:
    """Upsert audit.submissions for every provider and expected slice; returns a summary of the run.

    A slice's status comes from what this run saw: loaded (on time or late, by the file's arrival), failed
    (its file could not be read or loaded), or missing / not yet due. Rows change only when something
    about the submission changed, so a rerun leaves the table as it was.
    """
    import psycopg

    by_provider = {o["provider_id"]: o for o in outcomes if o}
    rows, summary = [], {"family": family, "loaded": 0, "late": 0, "missing": 0, "failed": 0, "errors": []}
    for provider_id in providers or provider_ids():
        outcome = by_provider.get(provider_id)
        results = {(r["entity"], r["period_end_date"]): r for r in (outcome or {}).get("results", [])}
        errors = {(e["entity"], e["period_end_date"]): e for e in (outcome or {}).get("errors", [])}
        for contract, period in expected_submissions(family, run_date):
            key = (contract.entity, period.isoformat())
            due = period + timedelta(days=contract.due_days)
            result, error = results.get(key), errors.get(key)
            received = result and result.get("received_at")
            received_at = datetime.fromisoformat(received) if received else None
            if outcome is None or error is not None:
                status = "failed"
                detail = error["reason"] if error else "the provider's extract or load task failed: see its log"
            else:
                status, detail = _status(received_at, due, run_date, result is not None), None
            batch_id = result["batch_id"] if result else None
            rows.append((family, contract.entity, provider_id, period, due, status, received_at, batch_id, detail,
                         batch_id))  # fmt: skip
            summary["loaded"] += result is not None
            summary["late"] += status == "late"
            summary["missing"] += status == "missing"
            summary["failed"] += status == "failed"
            if status == "failed":
                summary["errors"].append(f"{provider_id} {contract.entity} {period}: {detail}")
    with psycopg.connect(warehouse_url) as conn, conn.transaction(), conn.cursor() as cur:
        cur.execute(f"set local role {settings.LOADER_ROLE}")
        cur.executemany(_UPSERT_SUBMISSION, rows)
    return summary


# API submissions have no arrival time of their own: they arrive when loaded, so the batch's load time
# (unchanged by reruns) stands for it.
_UPSERT_SUBMISSION = """
insert into audit.submissions as s
    (source, entity, provider_id, period_end_date, due_date, status, received_at, batch_id, detail)
select %s, %s, %s, %s, %s, %s, coalesce(%s, b.loaded_at), %s, %s
from (select 1) as one
left join audit.load_batches as b on b.batch_id = %s
on conflict (source, entity, provider_id, period_end_date) do update
set due_date = excluded.due_date, status = excluded.status, received_at = excluded.received_at,
    batch_id = excluded.batch_id, detail = excluded.detail
where (s.due_date, s.status, s.received_at, s.batch_id, s.detail)
    is distinct from (excluded.due_date, excluded.status, excluded.received_at, excluded.batch_id, excluded.detail)
"""
