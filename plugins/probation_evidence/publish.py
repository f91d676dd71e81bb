"""The work behind `publish_evidence_packs`: which inspections are due, and writing their packs."""

from __future__ import annotations

import hashlib
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


def write_pack_files(context, out_dir: Path, browser=None, html: bytes | None = None) -> dict[str, Path]:
    """The pack's three files: self-contained HTML, the CSV of every number, and an A4 PDF of the HTML.

    Files whose content is unchanged are left alone; the PDF (whose metadata carries a creation time) is
    printed again only when the HTML changed or the PDF is missing, so a rerun changes nothing on disk.
    """
    from probation_evidence.packs.browser import render_pdf
    from probation_evidence.packs.export import render_pack_csv
    from probation_evidence.packs.render import atomic_write, pack_path, render_pack_html

    paths = {kind: pack_path(context, out_dir, f".{kind}") for kind in ("html", "csv", "pdf")}
    html = render_pack_html(context).encode("utf-8") if html is None else html
    html_changed = atomic_write(paths["html"], html)
    atomic_write(paths["csv"], render_pack_csv(context).encode("utf-8"))
    if html_changed or not paths["pdf"].exists():
        tmp = paths["pdf"].with_name(f".{paths['pdf'].name}.tmp")
        render_pdf(paths["html"], tmp, browser=browser)
        os.replace(tmp, paths["pdf"])
    return paths


PUBLISHER_ROLE = settings.PUBLISHER_ROLE

_LATEST_SQL = """
    select pack_version, data_sha256
    from audit.pack_publications
    where inspection_id = %s
    order by pack_version desc
    limit 1
"""


def data_sha256(context) -> str:
    """SHA-256 of what the pack says: its as-at date and every number in it (the CSV), not its version."""
    from probation_evidence.packs.export import render_pack_csv

    head = f"{context.inspection_id}|{context.provider_id}|{context.as_at_date.isoformat()}\n"
    return hashlib.sha256((head + render_pack_csv(context)).encode("utf-8")).hexdigest()


def next_version(latest: tuple[int, str] | None, data_hash: str, republish: bool) -> tuple[int, str | None]:
    """(version, reason): a new version on the first publication, changed data or request; else the latest."""
    if latest is None:
        return 1, "first"
    version, published_hash = latest
    if republish:
        return version + 1, "requested"
    if published_hash != data_hash:
        return version + 1, "data changed"
    return version, None


def _freeze(conn, context, data_hash: str, html_sha: str, reason: str) -> None:
    """Record the publication and freeze every number of the pack in marts.evidence_pack_values."""
    from probation_evidence.packs.export import COLUMNS, pack_rows

    publication_id = f"{context.inspection_id}-v{context.pack_version}"
    published_at = conn.execute("select now()").fetchone()[0]
    conn.execute(
        "insert into audit.pack_publications (publication_id, inspection_id, provider_id, pack_version,"
        " as_at_date, data_sha256, html_sha256, reason, published_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [publication_id, context.inspection_id, context.provider_id, int(context.pack_version),
         context.as_at_date, data_hash, html_sha, reason, published_at],
    )  # fmt: skip
    # INSERT, not COPY: the table has row-level security, and PostgreSQL refuses COPY FROM under it.
    # psycopg sends executemany as one pipeline, so this is one round trip, not one per row.
    columns = ", ".join(COLUMNS)
    placeholders = ", ".join(["%s"] * (len(COLUMNS) + 4))
    with conn.cursor() as cur:
        cur.executemany(
            f"insert into marts.evidence_pack_values (publication_id, provider_id, row_number, {columns},"  # noqa: S608
            f" published_at) values ({placeholders})",
            [
                [publication_id, context.provider_id, number, *(row.get(c) for c in COLUMNS), published_at]
                for number, row in enumerate(pack_rows(context), start=1)
            ],
        )


def publish_pack(
    warehouse_url: str, inspection: dict, out_dir=None, republish: bool = False, browser=None
) -> str:  # fmt: skip
    """Publish one inspection's pack (HTML, CSV, PDF) from the marts; returns the HTML file's path.

    The numbers are hashed: a new version is recorded (audit.pack_publications) and frozen
    (marts.evidence_pack_values) only for a first publication, when the data behind the as-at date has
    changed, or on request. Otherwise the latest version's files are written again, byte for byte, and
    nothing in the warehouse changes.
    """
    import dataclasses

    import psycopg

    from probation_evidence.packs.queries import load_pack_context
    from probation_evidence.packs.render import render_pack_html

    run_date = date.fromisoformat(inspection["run_date"])
    with psycopg.connect(warehouse_url) as conn, conn.transaction():
        conn.execute(f"set local role {PUBLISHER_ROLE}")
        # One publisher at a time per inspection: two runs never both take the next version.
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", ["pack|" + inspection["inspection_id"]])
        as_at = data_as_at(conn, run_date)
        context = load_pack_context(conn, inspection["inspection_id"], as_at)
        data_hash = data_sha256(context)
        latest = conn.execute(_LATEST_SQL, [context.inspection_id]).fetchone()
        version, reason = next_version(latest, data_hash, republish)
        context = dataclasses.replace(context, pack_version=str(version))
        html = render_pack_html(context).encode("utf-8")
        if reason is not None:
            _freeze(conn, context, data_hash, hashlib.sha256(html).hexdigest(), reason)
        paths = write_pack_files(context, Path(out_dir or settings.packs_dir()), browser=browser, html=html)
    return str(paths["html"])


def check_provider(conn, provider_id: str) -> None:
    """LookupError naming the provider and the known ones when `provider_id` is not in marts.dim_provider."""
    known = [row[0] for row in conn.execute("select provider_id from marts.dim_provider order by 1").fetchall()]
    if provider_id not in known:
        raise LookupError(f"unknown provider {provider_id!r}; known providers: {', '.join(known)}")


def publish_packs(
    warehouse_url: str, inspection_ids: list[str], run_date: date, out_dir: Path, provider_id: str | None = None,
    republish: bool = False, progress=print,
) -> list[str]:  # fmt: skip
    """Publish several packs with one browser, reporting progress; for the command line."""
    import time

    import psycopg

    from probation_evidence.packs.browser import PackBrowser
    from probation_evidence.packs.queries import fetch_inspection

    written = []
    with psycopg.connect(warehouse_url) as conn:
        if provider_id is not None:
            check_provider(conn, provider_id)
        inspections = [fetch_inspection(conn, inspection_id) for inspection_id in inspection_ids]
    for row in inspections:
        if provider_id is not None and row["provider_id"] != provider_id:
            raise LookupError(
                f"inspection {row['inspection_id']!r} is of provider {row['provider_id']}, not {provider_id}"
            )
    with PackBrowser() as browser:
        for number, row in enumerate(inspections, start=1):
            started = time.perf_counter()
            inspection = {"inspection_id": row["inspection_id"], "run_date": run_date.isoformat()}
            html = publish_pack(warehouse_url, inspection, out_dir, republish=republish, browser=browser)
            progress(
                f"[{number}/{len(inspections)}] {row['inspection_id']} ({row['provider_id']} {row['provider_name']}):"
                f" {html} (+ .pdf, .csv) in {time.perf_counter() - started:.1f} s"
            )
            written.append(html)
    return written
