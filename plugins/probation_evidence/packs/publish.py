"""The work behind `publish_evidence_packs`: which inspections are due, and writing their packs.

A pack is read from the marts in one REPEATABLE READ, READ ONLY snapshot, so every number in it comes
from the same committed state of the warehouse, and only while `audit.marts_state` says the marts are a
complete build whose dbt tests all passed. Its publication is then recorded in a separate, short write
transaction. A session-level advisory lock per inspection, held across both, keeps two publishers from
taking the same version. Staging a version for a planner's approval is in `packs.approval`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg import IsolationLevel, sql

from probation_evidence import settings
from probation_evidence.packs.browser import PackBrowser, render_pdf
from probation_evidence.packs.export import ABOUT_PROVIDER, COLUMNS, pack_rows, render_pack_csv
from probation_evidence.packs.model import PackContext
from probation_evidence.packs.queries import fetch_inspection, find_due_inspections, load_pack_context
from probation_evidence.packs.render import atomic_write, pack_path, render_pack_html
from probation_evidence.warehouse import read_sql

PUBLISHER_ROLE = settings.PUBLISHER_ROLE
LATEST_SQL = read_sql("probation_evidence.packs", "latest_publication")
_MARTS_STATE_EXISTS_SQL = read_sql("probation_evidence.packs", "marts_state_exists")
_MARTS_STATE_SQL = read_sql("probation_evidence.packs", "marts_state")
_DATA_AS_AT_SQL = read_sql("probation_evidence.packs", "data_as_at")
_NOW_SQL = read_sql("probation_evidence.packs", "transaction_time")
_INSERT_PUBLICATION_SQL = read_sql("probation_evidence.packs", "insert_publication")
_ADVISORY_LOCK_SQL = read_sql("probation_evidence.packs", "advisory_lock")
_ADVISORY_UNLOCK_SQL = read_sql("probation_evidence.packs", "advisory_unlock")
_PROVIDER_IDS_SQL = read_sql("probation_evidence.packs", "provider_ids")
# Composed with psycopg.sql: the role is an identifier, and the frozen values' columns are the CSV's.
_SET_PUBLISHER_ROLE = sql.SQL("set role {}").format(sql.Identifier(PUBLISHER_ROLE))
_INSERT_VALUES = sql.SQL(
    "insert into marts.evidence_pack_values (publication_id, provider_id, pack_provider_id, row_number, {},"
    " published_at) values ({})"
).format(
    sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
    sql.SQL(", ").join(sql.Placeholder() * (len(COLUMNS) + 5)),
)


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}


class MartsNotPublishable(RuntimeError):
    """The marts are not a complete build whose dbt tests all passed: no pack may be frozen from them.

    `status` is what audit.marts_state says ('building', 'failed'), or None when it says nothing.
    """

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status


_STATE_ADVICE = {
    "building": (
        "a dbt build is under way, or died part way, so the marts may be half-built. Wait for the"
        " transform_warehouse run to finish (publish_evidence_packs runs again when it emits the marts Asset);"
        " if no transform run is active, rerun transform_warehouse"
    ),
    "failed": (
        "the last dbt build or one of its tests failed, so the marts are not a tested build. Fix what"
        " transform_warehouse reports and rerun it; packs published before are unchanged"
    ),
}


def check_marts_state(conn) -> None:
    """Raise MartsNotPublishable, naming the state and what to do, unless audit.marts_state says 'passed'.

    The transform DAG sets 'building' before dbt starts and 'passed' only after every model built and
    every test passed (sql/bootstrap/09_marts_state.sql); a missing table or row means no tested build.
    """
    exists = conn.execute(_MARTS_STATE_EXISTS_SQL).fetchone()[0]
    if not exists:
        raise MartsNotPublishable(
            "refusing to publish: audit.marts_state does not exist, so nothing says the marts passed their dbt"
            " tests. Bootstrap the warehouse (probation-evidence warehouse bootstrap) and run transform_warehouse."
        )
    row = conn.execute(_MARTS_STATE_SQL).fetchone()
    if row is None:
        raise MartsNotPublishable(
            "refusing to publish: audit.marts_state has no row, so the marts have never been built and tested"
            " here. Run transform_warehouse (it records 'passed' when every model built and every dbt test"
            " passed), then publish again."
        )
    status, detail = row
    if status != "passed":
        advice = _STATE_ADVICE.get(status, "rerun transform_warehouse")
        raise MartsNotPublishable(
            f"refusing to publish: the marts state is {status!r} ({detail or 'no detail'}), not 'passed': {advice}.",
            status=status,
        )


@contextmanager
def read_snapshot(conn):
    """One REPEATABLE READ, READ ONLY transaction: every query in it sees the same committed warehouse."""
    saved = conn.isolation_level, conn.read_only
    conn.isolation_level, conn.read_only = IsolationLevel.REPEATABLE_READ, True
    try:
        with conn.transaction():
            yield conn
    finally:
        conn.isolation_level, conn.read_only = saved


def due_inspections(warehouse_url: str, run_date: date, lead_days: int | None = None) -> list[dict]:
    """Inspections whose fieldwork starts after `run_date` and within the lead window."""
    with psycopg.connect(warehouse_url) as conn:
        due = find_due_inspections(conn, run_date, lead_days or settings.lead_days())
    return [_jsonable({**row, "run_date": run_date}) for row in due]


def check_marts_publishable(warehouse_url: str) -> None:
    """check_marts_state on a connection of its own, as the publisher (the publish DAG's first task)."""
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(_SET_PUBLISHER_ROLE)
        check_marts_state(conn)


def data_as_at(conn, run_date: date) -> date:
    """The latest period with indicator values on or before the run date: the pack's 'data as at'."""
    row = conn.execute(_DATA_AS_AT_SQL, [run_date]).fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"no indicator values on or before {run_date}: has the warehouse been built?")
    return row[0]


def write_pack_files(
    context, out_dir: Path, browser=None, html: bytes | None = None, csv: bytes | None = None
) -> dict[str, Path]:  # fmt: skip
    """The pack's three files: self-contained HTML, the CSV of every number, and an A4 PDF of the HTML.

    Files whose content is unchanged are left alone; the PDF (whose metadata carries a creation time) is
    printed again only when the HTML changed or the PDF is missing, so a rerun changes nothing on disk.
    """
    paths = {kind: pack_path(context, out_dir, f".{kind}") for kind in ("html", "csv", "pdf")}
    html = render_pack_html(context).encode("utf-8") if html is None else html
    html_changed = atomic_write(paths["html"], html)
    atomic_write(paths["csv"], render_pack_csv(context).encode("utf-8") if csv is None else csv)
    if html_changed or not paths["pdf"].exists():
        tmp = paths["pdf"].with_name(f".{paths['pdf'].name}.tmp")
        render_pdf(paths["html"], tmp, browser=browser)
        os.replace(tmp, paths["pdf"])
    return paths


def data_sha256(context) -> str:
    """SHA-256 of what the pack says: its as-at date and every number in it (the CSV), not its version."""
    head = f"{context.inspection_id}|{context.provider_id}|{context.as_at_date.isoformat()}\n"
    return hashlib.sha256((head + render_pack_csv(context)).encode("utf-8")).hexdigest()


def next_version(
    latest: tuple | None, data_hash: str, republish: bool, html_hash: str | None = None
) -> tuple[int, str | None]:  # fmt: skip
    """(version, reason): a new version on the first publication, changed data, changed content or request.

    `latest` is (version, data_sha256[, html_sha256]) of the latest recorded version; `html_hash` is the
    hash of the HTML rendered now *as that version*. Same numbers but different HTML (a new late
    submission in the data-quality section, changed wording) is a new version, 'content changed': a
    recorded version's files never change, and the pack handed out shows what the warehouse says now.
    """
    if latest is None:
        return 1, "first"
    version, published_hash, *rest = latest
    if republish:
        return version + 1, "requested"
    if published_hash != data_hash:
        return version + 1, "data changed"
    published_html = rest[0] if rest else None
    if html_hash is not None and published_html is not None and published_html != html_hash:
        return version + 1, "content changed"
    return version, None


def _freeze(conn, context, data_hash: str, html_sha: str, csv_sha: str, reason: str | None) -> None:
    """Record the publication and freeze every number of the pack in marts.evidence_pack_values.

    Each frozen row carries the provider its figures are about (`provider_id`, which row-level security
    filters on: another provider's value in the comparison chart is tagged with that provider) and the
    provider whose pack it is (`pack_provider_id`).
    """
    publication_id = f"{context.inspection_id}-v{context.pack_version}"
    published_at = conn.execute(_NOW_SQL).fetchone()[0]
    conn.execute(
        _INSERT_PUBLICATION_SQL,
        [publication_id, context.inspection_id, context.provider_id, int(context.pack_version),
         context.as_at_date, data_hash, html_sha, csv_sha, reason, published_at],
    )  # fmt: skip
    # INSERT, not COPY: the table has row-level security, and PostgreSQL refuses COPY FROM under it.
    # psycopg sends executemany as one pipeline, so this is one round trip, not one per row.
    with conn.cursor() as cur:
        cur.executemany(
            _INSERT_VALUES,
            [
                [publication_id, row[ABOUT_PROVIDER], context.provider_id, number, *(row.get(c) for c in COLUMNS),
                 published_at]
                for number, row in enumerate(pack_rows(context), start=1)
            ],
        )  # fmt: skip


def sha256_hex(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True)
class PackVersion:
    """A pack as read in one snapshot, rendered as the version it would be recorded as."""

    context: PackContext
    latest: tuple | None
    data_sha256: str
    html: bytes
    csv: bytes
    reason: str | None  # None: no new version, the latest recorded one stands


def read_version(conn, inspection: dict, republish: bool) -> PackVersion:
    """Read the pack and the latest recorded version in one REPEATABLE READ, READ ONLY snapshot (the caller
    holds the inspection's advisory lock) and work out which version it is; MartsNotPublishable unless the
    marts passed their tests."""
    run_date = date.fromisoformat(inspection["run_date"])
    with read_snapshot(conn):
        check_marts_state(conn)
        as_at = data_as_at(conn, run_date)
        context = load_pack_context(conn, inspection["inspection_id"], as_at)
        latest = conn.execute(LATEST_SQL, [context.inspection_id]).fetchone()
    data_hash = data_sha256(context)
    shown = dataclasses.replace(context, pack_version=str(latest[0] if latest else 1))
    html = render_pack_html(shown).encode("utf-8")
    version, reason = next_version(latest, data_hash, republish, sha256_hex(html))
    context = dataclasses.replace(context, pack_version=str(version))
    if context.pack_version != shown.pack_version:
        html = render_pack_html(context).encode("utf-8")
    csv = render_pack_csv(context).encode("utf-8")
    return PackVersion(context, latest, data_hash, html, csv, reason)


def record_version(conn, version: PackVersion) -> None:
    """Record a new version in one write transaction, re-checking the marts state and the latest version.

    The marts may have started rebuilding, or a publisher that ignores the lock may have recorded a version,
    since the snapshot: then nothing is recorded (the run is retried).
    """
    with conn.transaction():
        check_marts_state(conn)
        if conn.execute(LATEST_SQL, [version.context.inspection_id]).fetchone() != version.latest:
            raise RuntimeError(
                f"{version.context.inspection_id}: another publisher recorded a version meanwhile; publish again"
            )
        _freeze(
            conn,
            version.context,
            version.data_sha256,
            sha256_hex(version.html),
            sha256_hex(version.csv),
            version.reason,
        )


@contextmanager
def inspection_lock(warehouse_url: str, inspection_id: str):
    """A publisher's connection (autocommit, SET ROLE publisher) holding the inspection's advisory lock."""
    lock_key = "pack|" + inspection_id
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(_SET_PUBLISHER_ROLE)
        conn.execute(_ADVISORY_LOCK_SQL, [lock_key])
        try:
            yield conn
        finally:
            if not conn.closed:
                conn.execute(_ADVISORY_UNLOCK_SQL, [lock_key])


def publish_pack(
    warehouse_url: str, inspection: dict, out_dir=None, republish: bool = False, browser=None
) -> str:  # fmt: skip
    """Publish one inspection's pack (HTML, CSV, PDF) from the marts; returns the HTML file's path.

    1. Under a session-level advisory lock for the inspection (two publishers never both take the next
       version), the marts state, the pack's content and the latest recorded version are read in one
       REPEATABLE READ, READ ONLY snapshot. MartsNotPublishable when the marts are not a tested build.
    2. A new version is recorded (audit.pack_publications, with the SHA-256 of the numbers, the HTML and
       the CSV) and frozen (marts.evidence_pack_values) in a separate write transaction, only for a first
       publication, changed numbers, changed HTML ('content changed') or on request. That transaction
       checks the marts state and the latest version again, and refuses if either moved.
    3. The files are written. For an existing version they are the recorded bytes again (same numbers and
       same HTML hash, or there would be a new version), so a recorded version's files never change.
    """
    with inspection_lock(warehouse_url, inspection["inspection_id"]) as conn:
        version = read_version(conn, inspection, republish)
        if version.reason is not None:
            record_version(conn, version)
        paths = write_pack_files(
            version.context, Path(out_dir or settings.packs_dir()), browser=browser, html=version.html,
            csv=version.csv,
        )  # fmt: skip
    return str(paths["html"])


def check_provider(conn, provider_id: str) -> None:
    """LookupError naming the provider and the known ones when `provider_id` is not in marts.dim_provider."""
    known = [row[0] for row in conn.execute(_PROVIDER_IDS_SQL).fetchall()]
    if provider_id not in known:
        raise LookupError(f"unknown provider {provider_id!r}; known providers: {', '.join(known)}")


def publish_packs(
    warehouse_url: str, inspection_ids: list[str], run_date: date, out_dir: Path, provider_id: str | None = None,
    republish: bool = False, progress=print,
) -> list[str]:  # fmt: skip
    """Publish several packs with one browser, reporting progress; for the command line."""
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
