"""The work behind `publish_evidence_packs`: which inspections are due, and writing their packs.

A pack is read from the marts in one REPEATABLE READ, READ ONLY snapshot, so every number in it comes
from the same committed state of the warehouse, and only while `audit.marts_state` says the marts are a
complete build whose dbt tests all passed. Its publication is then recorded in a separate, short write
transaction. A session-level advisory lock per inspection, held across both, keeps two publishers from
taking the same version.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from probation_evidence import settings


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
    exists = conn.execute("select to_regclass('audit.marts_state') is not null").fetchone()[0]
    if not exists:
        raise MartsNotPublishable(
            "refusing to publish: audit.marts_state does not exist, so nothing says the marts passed their dbt"
            " tests. Bootstrap the warehouse (probation-evidence warehouse bootstrap) and run transform_warehouse."
        )
    row = conn.execute("select status, detail from audit.marts_state").fetchone()
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
    from psycopg import IsolationLevel

    saved = conn.isolation_level, conn.read_only
    conn.isolation_level, conn.read_only = IsolationLevel.REPEATABLE_READ, True
    try:
        with conn.transaction():
            yield conn
    finally:
        conn.isolation_level, conn.read_only = saved


def due_inspections(warehouse_url: str, run_date: date, lead_days: int | None = None) -> list[dict]:
    """Inspections whose fieldwork starts after `run_date` and within the lead window."""
    import psycopg

    from probation_evidence.packs.queries import find_due_inspections

    with psycopg.connect(warehouse_url) as conn:
        due = find_due_inspections(conn, run_date, lead_days or settings.lead_days())
    return [_jsonable({**row, "run_date": run_date}) for row in due]


def check_marts_publishable(warehouse_url: str) -> None:
    """check_marts_state on a connection of its own, as the publisher (the publish DAG's first task)."""
    import psycopg

    with psycopg.connect(warehouse_url) as conn:
        conn.execute(f"set role {PUBLISHER_ROLE}")
        check_marts_state(conn)


def data_as_at(conn, run_date: date) -> date:
    """The latest period with indicator values on or before the run date: the pack's 'data as at'."""
    row = conn.execute(
        "select max(period_end_date) from marts.fct_indicator_values where period_end_date <= %s", [run_date]
    ).fetchone()
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
    from probation_evidence.packs.browser import render_pdf
    from probation_evidence.packs.export import render_pack_csv
    from probation_evidence.packs.render import atomic_write, pack_path, render_pack_html

    paths = {kind: pack_path(context, out_dir, f".{kind}") for kind in ("html", "csv", "pdf")}
    html = render_pack_html(context).encode("utf-8") if html is None else html
    html_changed = atomic_write(paths["html"], html)
    atomic_write(paths["csv"], render_pack_csv(context).encode("utf-8") if csv is None else csv)
    if html_changed or not paths["pdf"].exists():
        tmp = paths["pdf"].with_name(f".{paths['pdf'].name}.tmp")
        render_pdf(paths["html"], tmp, browser=browser)
        os.replace(tmp, paths["pdf"])
    return paths


PUBLISHER_ROLE = settings.PUBLISHER_ROLE

_LATEST_SQL = """
    select pack_version, data_sha256, html_sha256
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


def _freeze(conn, context, data_hash: str, html_sha: str, csv_sha: str, reason: str) -> None:
    """Record the publication and freeze every number of the pack in marts.evidence_pack_values.

    Each frozen row carries the provider its figures are about (`provider_id`, which row-level security
    filters on: another provider's value in the comparison chart is tagged with that provider) and the
    provider whose pack it is (`pack_provider_id`).
    """
    from probation_evidence.packs.export import ABOUT_PROVIDER, COLUMNS, pack_rows

    publication_id = f"{context.inspection_id}-v{context.pack_version}"
    published_at = conn.execute("select now()").fetchone()[0]
    conn.execute(
        "insert into audit.pack_publications (publication_id, inspection_id, provider_id, pack_version,"
        " as_at_date, data_sha256, html_sha256, csv_sha256, reason, published_at)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [publication_id, context.inspection_id, context.provider_id, int(context.pack_version),
         context.as_at_date, data_hash, html_sha, csv_sha, reason, published_at],
    )  # fmt: skip
    # INSERT, not COPY: the table has row-level security, and PostgreSQL refuses COPY FROM under it.
    # psycopg sends executemany as one pipeline, so this is one round trip, not one per row.
    columns = ", ".join(COLUMNS)
    placeholders = ", ".join(["%s"] * (len(COLUMNS) + 5))
    with conn.cursor() as cur:
        cur.executemany(
            "insert into marts.evidence_pack_values (publication_id, provider_id, pack_provider_id, row_number,"  # noqa: S608
            f" {columns}, published_at) values ({placeholders})",
            [
                [publication_id, row[ABOUT_PROVIDER], context.provider_id, number, *(row.get(c) for c in COLUMNS),
                 published_at]
                for number, row in enumerate(pack_rows(context), start=1)
            ],
        )  # fmt: skip


def _sha(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True)
class _Version:
    """A pack as read in one snapshot, rendered as the version it would be recorded as."""

    context: object  # packs.model.PackContext
    latest: tuple | None
    data_sha256: str
    html: bytes
    csv: bytes
    reason: str | None  # None: no new version, the latest recorded one stands


def _read_version(conn, inspection: dict, republish: bool) -> _Version:
    """Read the pack and the latest recorded version in one REPEATABLE READ, READ ONLY snapshot (the caller
    holds the inspection's advisory lock) and work out which version it is; MartsNotPublishable unless the
    marts passed their tests."""
    import dataclasses

    from probation_evidence.packs.export import render_pack_csv
    from probation_evidence.packs.queries import load_pack_context
    from probation_evidence.packs.render import render_pack_html

    run_date = date.fromisoformat(inspection["run_date"])
    with read_snapshot(conn):
        check_marts_state(conn)
        as_at = data_as_at(conn, run_date)
        context = load_pack_context(conn, inspection["inspection_id"], as_at)
        latest = conn.execute(_LATEST_SQL, [context.inspection_id]).fetchone()
    data_hash = data_sha256(context)
    shown = dataclasses.replace(context, pack_version=str(latest[0] if latest else 1))
    html = render_pack_html(shown).encode("utf-8")
    version, reason = next_version(latest, data_hash, republish, _sha(html))
    context = dataclasses.replace(context, pack_version=str(version))
    if context.pack_version != shown.pack_version:
        html = render_pack_html(context).encode("utf-8")
    csv = render_pack_csv(context).encode("utf-8")
    return _Version(context, latest, data_hash, html, csv, reason)


def _record_version(conn, version: _Version) -> None:
    """Record a new version in one write transaction, re-checking the marts state and the latest version.

    The marts may have started rebuilding, or a publisher that ignores the lock may have recorded a version,
    since the snapshot: then nothing is recorded (the run is retried).
    """
    with conn.transaction():
        check_marts_state(conn)
        if conn.execute(_LATEST_SQL, [version.context.inspection_id]).fetchone() != version.latest:
            raise RuntimeError(
                f"{version.context.inspection_id}: another publisher recorded a version meanwhile; publish again"
            )
        _freeze(conn, version.context, version.data_sha256, _sha(version.html), _sha(version.csv), version.reason)


@contextmanager
def _inspection_lock(warehouse_url: str, inspection_id: str):
    """A publisher's connection (autocommit, SET ROLE publisher) holding the inspection's advisory lock."""
    import psycopg

    lock_key = "pack|" + inspection_id
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(f"set role {PUBLISHER_ROLE}")
        conn.execute("select pg_advisory_lock(hashtext(%s))", [lock_key])
        try:
            yield conn
        finally:
            if not conn.closed:
                conn.execute("select pg_advisory_unlock(hashtext(%s))", [lock_key])


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
    with _inspection_lock(warehouse_url, inspection["inspection_id"]) as conn:
        version = _read_version(conn, inspection, republish)
        if version.reason is not None:
            _record_version(conn, version)
        paths = write_pack_files(
            version.context, Path(out_dir or settings.packs_dir()), browser=browser, html=version.html,
            csv=version.csv,
        )  # fmt: skip
    return str(paths["html"])


# Approval (PACK_APPROVAL_REQUIRED, or the publish DAG's `require_approval` param): a new version is rendered
# to the staging folder and recorded, and moved to its published path, only once a planner approves it.

_PACK_KINDS = ("html", "csv", "pdf")


class StagedPackOutdated(RuntimeError):
    """The warehouse no longer gives the pack a planner approved: nothing recorded, staged files removed."""


def _paths(folder: Path, inspection_id: str, provider_id: str, version: int) -> dict[str, Path]:
    """A version's three file paths under `folder`, built (and checked) from its ids, never taken as given."""
    from types import SimpleNamespace

    from probation_evidence.packs.render import pack_path

    ids = SimpleNamespace(inspection_id=inspection_id, provider_id=provider_id, pack_version=str(int(version)))
    return {kind: pack_path(ids, folder, f".{kind}") for kind in _PACK_KINDS}


def stage_pack(
    warehouse_url: str, inspection: dict, out_dir=None, staging_dir=None, republish: bool = False, browser=None
) -> dict:  # fmt: skip
    """Render a new version of one inspection's pack to the staging folder, recording nothing.

    Read as publish_pack reads it (advisory lock, one REPEATABLE READ snapshot, marts state 'passed'). When
    there is no new version, the latest recorded version's files are written to the published folder, as
    publish_pack does, and {"status": "unchanged", ...} is returned. Otherwise the files go to
    `<staging_dir>/<inspection_id>/` and the returned {"status": "staged", ...} says what a planner is asked
    to approve: ids, version, reason, the previous version, the hashes, and where the files are and will go.
    """
    with _inspection_lock(warehouse_url, inspection["inspection_id"]) as conn:
        version = _read_version(conn, inspection, republish)
        context = version.context
        if version.reason is None:
            paths = write_pack_files(
                context, Path(out_dir or settings.packs_dir()), browser=browser, html=version.html, csv=version.csv
            )  # fmt: skip
            return {
                "status": "unchanged", "inspection_id": context.inspection_id, "provider_id": context.provider_id,
                "pack_version": int(context.pack_version), "html": str(paths["html"]),
            }  # fmt: skip
        staged = write_pack_files(
            context, Path(staging_dir or settings.pack_staging_dir()), browser=browser, html=version.html,
            csv=version.csv,
        )  # fmt: skip
    published = _paths(Path(out_dir or settings.packs_dir()), context.inspection_id, context.provider_id,
                       int(context.pack_version))  # fmt: skip
    return {
        "status": "staged",
        "inspection_id": context.inspection_id,
        "provider_id": context.provider_id,
        "pack_version": int(context.pack_version),
        "reason": version.reason,
        "run_date": inspection["run_date"],
        "as_at_date": context.as_at_date.isoformat(),
        "republish": republish,
        "previous": list(version.latest) if version.latest else None,
        "data_sha256": version.data_sha256,
        "html_sha256": _sha(version.html),
        "csv_sha256": _sha(version.csv),
        "staged": {kind: str(path) for kind, path in staged.items()},
        "published": {kind: str(path) for kind, path in published.items()},
    }


_REASON_TEXT = {
    "first": "the first version of this pack",
    "data changed": "the numbers behind the as-at date changed since the previous version",
    "content changed": "the same numbers, but the pack's text changed (e.g. the data-quality section)",
    "requested": "a new version was requested (the run's republish param)",
}


def approval_request(staged: dict) -> dict:
    """The subject and Markdown body a planner sees when asked to approve a staged version.

    Ids, codes, dates, reasons and file paths only: nothing in it names a person.
    """
    inspection_id, provider_id, version = staged["inspection_id"], staged["provider_id"], staged["pack_version"]
    previous = staged.get("previous")
    reason = staged["reason"]
    lines = [
        f"A new version of the evidence pack for inspection **{inspection_id}** (provider **{provider_id}**)"
        " is ready. It is not published yet: nothing is recorded until you approve.",
        "",
        f"- Version: **{version}**" + (f" (latest published: version {previous[0]})" if previous else ""),
        f"- Why a new version: **{reason}**, {_REASON_TEXT.get(reason, reason)}",
        f"- Data as at: {staged['as_at_date']}",
        f"- Staged files to review: `{staged['staged']['html']}` (also `.pdf` and `.csv` beside it)",
    ]
    if previous:
        shown = _paths(Path(staged["published"]["html"]).parents[1], inspection_id, provider_id, previous[0])
        lines.append(f"- Latest published version, to compare with: `{shown['html']}`")
    lines += [
        "",
        f"**Approve**: version {version} is recorded in audit.pack_publications as {inspection_id}-v{version},"
        f" its numbers are frozen in marts.evidence_pack_values, and its files move to"
        f" `{staged['published']['html']}`.",
        "",
        "**Reject**: nothing is recorded and the staged files are removed; the next publish run stages the"
        " pack again from the warehouse as it then stands.",
    ]
    return {
        "subject": f"Publish evidence pack {inspection_id} ({provider_id}) version {version}: {reason}?",
        "body": "\n".join(lines),
    }


def discard_staged(staged: dict, staging_dir=None) -> list[str]:
    """Remove a staged version's files (and its folder once empty); returns the paths removed."""
    folder = Path(staging_dir or settings.pack_staging_dir())
    paths = _paths(folder, staged["inspection_id"], staged["provider_id"], staged["pack_version"])
    removed = []
    for path in paths.values():
        if path.exists():
            path.unlink()
            removed.append(str(path))
    parent = paths["html"].parent
    if parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
    return removed


def record_staged(warehouse_url: str, staged: dict, out_dir=None, staging_dir=None) -> str:
    """Record an approved staged version and move its files to the published folder; returns the HTML path.

    Under the inspection's advisory lock the pack is read again in one REPEATABLE READ snapshot, as the
    version that was staged. Only if it is still the pack the planner approved (same numbers, same HTML and
    CSV, the staged files unchanged on disk, the same previous version) is it recorded, in one write
    transaction that re-checks the marts state and the latest version. Otherwise nothing is recorded, the
    staged files are removed and StagedPackOutdated says why: the next run stages the current pack. A
    version already recorded by this approval (a retry after the move failed) is not recorded twice.
    """
    import dataclasses

    from probation_evidence.packs.render import atomic_write

    inspection_id, version_number = staged["inspection_id"], int(staged["pack_version"])
    folder = Path(staging_dir or settings.pack_staging_dir())
    files = _paths(folder, inspection_id, staged["provider_id"], version_number)
    published = _paths(Path(out_dir or settings.packs_dir()), inspection_id, staged["provider_id"], version_number)
    recorded = (version_number, staged["data_sha256"], staged["html_sha256"])
    with _inspection_lock(warehouse_url, inspection_id) as conn:
        latest = conn.execute(_LATEST_SQL, [inspection_id]).fetchone()
        if latest != recorded:
            problem = _staged_problem(files, staged)
            inspection = {"inspection_id": inspection_id, "run_date": staged["run_date"]}
            version = _read_version(conn, inspection, staged.get("republish", False)) if problem is None else None
            if version is not None:
                previous = tuple(staged["previous"]) if staged.get("previous") else None
                if version.latest != previous:
                    problem = f"another version was recorded since it was staged (latest now v{version.latest[0]})"
                elif version.reason is None or int(version.context.pack_version) != version_number:
                    problem = "the warehouse no longer gives a new version"
                elif (version.data_sha256, _sha(version.html), _sha(version.csv)) != (
                    staged["data_sha256"], staged["html_sha256"], staged["csv_sha256"]
                ):  # fmt: skip
                    problem = "the warehouse changed since it was staged: the pack now reads differently"
            if problem is not None:
                discard_staged(staged, folder)
                raise StagedPackOutdated(
                    f"{inspection_id} v{version_number} was approved but not recorded: {problem}. Its staged files"
                    " were removed; the next publish_evidence_packs run stages the pack as the warehouse now"
                    " stands, for approval again."
                )
            # The version recorded is the one approved, even if the approval said another reason.
            _record_version(conn, dataclasses.replace(version, reason=staged["reason"]))
        for kind, source in files.items():
            if source.exists():
                atomic_write(published[kind], source.read_bytes())
        discard_staged(staged, folder)
    missing = [str(p) for p in published.values() if not p.exists()]
    if missing:
        raise FileNotFoundError(f"{inspection_id} v{version_number} is recorded but these files are missing: {missing}")
    return str(published["html"])


APPROVE, REJECT = "Approve", "Reject"


def record_decision(warehouse_url: str, staged: dict, decision: dict, out_dir=None, staging_dir=None) -> dict:
    """Act on a planner's answer to a staged version (the HITL task's result: its `chosen_options`).

    Approve: record_staged. Reject (also what a timed-out request resolves to): discard_staged, nothing
    recorded. Returns what happened, for the run's record; the log says it in words.
    """
    import logging

    chosen = list((decision or {}).get("chosen_options") or [])
    ids = {k: staged[k] for k in ("inspection_id", "provider_id", "pack_version", "reason")}
    if chosen == [APPROVE]:
        path = record_staged(warehouse_url, staged, out_dir, staging_dir)
        outcome = {**ids, "outcome": "approved", "html": path}
        message = f"approved: recorded {ids['inspection_id']}-v{ids['pack_version']} and published {path}"
    elif chosen == [REJECT]:
        removed = discard_staged(staged, staging_dir)
        outcome = {**ids, "outcome": "rejected", "removed": removed}
        message = (
            f"rejected: {ids['inspection_id']} v{ids['pack_version']} not recorded; staged files removed"
            f" ({len(removed)})"
        )
    else:
        raise ValueError(f"expected the answer {APPROVE!r} or {REJECT!r} for {ids['inspection_id']}, got {chosen!r}")
    logging.getLogger(__name__).info("%s (%s, provider %s)", message, ids["reason"], ids["provider_id"])
    return outcome


def rendered_path(result) -> str:
    """The HTML path of a render_pack result: published (a path, or an unchanged version) or staged."""
    if isinstance(result, str):
        return result
    return result["staged"]["html"] if result["status"] == "staged" else result["html"]


def staged_versions(results: list) -> list[dict]:
    """The render_pack results that wait for approval."""
    return [r for r in results if isinstance(r, dict) and r.get("status") == "staged"]


def _staged_problem(files: dict[str, Path], staged: dict) -> str | None:
    """Why the staged files are not the ones approved (missing or changed on disk), or None."""
    for kind in _PACK_KINDS:
        if not files[kind].exists():
            return f"its staged {kind.upper()} file {files[kind]} is missing"
    for kind in ("html", "csv"):
        if _sha(files[kind].read_bytes()) != staged[f"{kind}_sha256"]:
            return f"its staged {kind.upper()} file {files[kind]} changed after it was staged"
    return None


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
