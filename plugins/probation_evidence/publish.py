"""The work behind `publish_evidence_packs`: which inspections are due, and writing their packs."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

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


def write_pack_files(context, out_dir: Path, browser=None) -> dict[str, Path]:
    """The pack's three files: self-contained HTML, the CSV of every number, and an A4 PDF of the HTML.

    Files whose content is unchanged are left alone; the PDF (whose metadata carries a creation time) is
    printed again only when the HTML changed or the PDF is missing, so a rerun changes nothing on disk.
    """
    from probation_evidence.packs.browser import render_pdf
    from probation_evidence.packs.export import render_pack_csv
    from probation_evidence.packs.render import atomic_write, pack_path, render_pack_html

    paths = {kind: pack_path(context, out_dir, f".{kind}") for kind in ("html", "csv", "pdf")}
    html_changed = atomic_write(paths["html"], render_pack_html(context).encode("utf-8"))
    atomic_write(paths["csv"], render_pack_csv(context).encode("utf-8"))
    if html_changed or not paths["pdf"].exists():
        tmp = paths["pdf"].with_name(f".{paths['pdf'].name}.tmp")
        render_pdf(paths["html"], tmp, browser=browser)
        os.replace(tmp, paths["pdf"])
    return paths


def publish_pack(warehouse_url: str, inspection: dict, out_dir=None) -> str:
    """Render one inspection's pack (HTML, CSV, PDF) from the marts; returns the HTML file's path."""
    import psycopg

    from probation_evidence.packs.queries import load_pack_context

    run_date = date.fromisoformat(inspection["run_date"])
    with psycopg.connect(warehouse_url) as conn:
        as_at = data_as_at(conn, run_date)
        context = load_pack_context(conn, inspection["inspection_id"], as_at)
    return str(write_pack_files(context, Path(out_dir or settings.packs_dir()))["html"])


def check_provider(conn, provider_id: str) -> None:
    """LookupError naming the provider and the known ones when `provider_id` is not in marts.dim_provider."""
    known = [row[0] for row in conn.execute("select provider_id from marts.dim_provider order by 1").fetchall()]
    if provider_id not in known:
        raise LookupError(f"unknown provider {provider_id!r}; known providers: {', '.join(known)}")


def publish_packs(
    warehouse_url: str, inspection_ids: list[str], run_date: date, out_dir: Path, provider_id: str | None = None,
    progress=print,
) -> list[dict[str, Path]]:  # fmt: skip
    """Publish several packs with one browser, reporting progress; for the command line."""
    import time

    import psycopg

    from probation_evidence.packs.browser import PackBrowser
    from probation_evidence.packs.queries import load_pack_context

    written = []
    with psycopg.connect(warehouse_url) as conn, PackBrowser() as browser:
        if provider_id is not None:
            check_provider(conn, provider_id)
        as_at = data_as_at(conn, run_date)
        for number, inspection_id in enumerate(inspection_ids, start=1):
            started = time.perf_counter()
            context = load_pack_context(conn, inspection_id, as_at)
            if provider_id is not None and context.provider_id != provider_id:
                raise LookupError(
                    f"inspection {inspection_id!r} is of provider {context.provider_id}, not {provider_id}"
                )
            paths = write_pack_files(context, out_dir, browser=browser)
            progress(
                f"[{number}/{len(inspection_ids)}] {inspection_id} ({context.provider_id} {context.provider_name}),"
                f" data as at {as_at}: {paths['html']} (+ .pdf, .csv) in {time.perf_counter() - started:.1f} s"
            )
            written.append(paths)
    return written
