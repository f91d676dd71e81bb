"""The work behind `publish_evidence_packs`: which inspections are due, and writing their packs."""

from __future__ import annotations

from datetime import date

from probation_evidence import settings


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}


def due_inspections(warehouse_url: str, run_date: date, lead_days: int | None = None) -> list[dict]:
    """Inspections whose fieldwork starts after `run_date` and within the lead window."""
    import psycopg

    from probation_evidence.packs.queries import find_due_inspections

    with psycopg.connect(warehouse_url) as conn:
        due = find_due_inspections(conn, run_date, lead_days or settings.lead_days())
    return [_jsonable({**row, "run_date": run_date}) for row in due]


def data_as_at(conn, run_date: date) -> date:
    """The latest period with indicator values on or before the run date: the pack's 'data as at'."""
    row = conn.execute(
        "select max(period_end_date) from marts.fct_indicator_values where period_end_date <= %s", [run_date]
    ).fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"no indicator values on or before {run_date}: has the warehouse been built?")
    return row[0]


def publish_pack(warehouse_url: str, inspection: dict, out_dir=None) -> str:
    """Render one inspection's pack from the marts; returns the file written."""
    import psycopg

    from probation_evidence.packs.queries import load_pack_context
    from probation_evidence.packs.render import write_pack

    run_date = date.fromisoformat(inspection["run_date"])
    with psycopg.connect(warehouse_url) as conn:
        as_at = data_as_at(conn, run_date)
        context = load_pack_context(conn, inspection["inspection_id"], as_at)
    return str(write_pack(context, out_dir or settings.packs_dir()))
