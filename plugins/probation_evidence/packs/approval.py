"""A planner's approval before a new pack version is published.

With approval required (PACK_APPROVAL_REQUIRED, or the publish DAG's `require_approval` param), a new
version is rendered to the staging folder with nothing recorded (`stage_pack`); a planner is asked
(`approval_request`), and only on approval is it recorded and moved to its published path
(`record_decision`, `record_staged`); on rejection its staged files are removed (`discard_staged`).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import NamedTuple, cast

from probation_evidence import settings
from probation_evidence.packs.publish import (
    LATEST_SQL,
    inspection_lock,
    read_version,
    record_version,
    sha256_hex,
    write_pack_files,
)
from probation_evidence.packs.render import atomic_write, pack_path

_PACK_KINDS = ("html", "csv", "pdf")


class StagedPackOutdated(RuntimeError):
    """The warehouse no longer gives the pack a planner approved: nothing recorded, staged files removed."""


class _PackIds(NamedTuple):
    inspection_id: str
    provider_id: str
    pack_version: str


def _paths(folder: Path, inspection_id: str, provider_id: str, version: int) -> dict[str, Path]:
    """A version's three file paths under `folder`, built (and checked) from its ids, never taken as given."""
    ids = _PackIds(inspection_id, provider_id, str(int(version)))
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
    with inspection_lock(warehouse_url, inspection["inspection_id"]) as conn:
        version = read_version(conn, inspection, republish)
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
        "html_sha256": sha256_hex(version.html),
        "csv_sha256": sha256_hex(version.csv),
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
    inspection_id, version_number = staged["inspection_id"], int(staged["pack_version"])
    folder = Path(staging_dir or settings.pack_staging_dir())
    files = _paths(folder, inspection_id, staged["provider_id"], version_number)
    published = _paths(Path(out_dir or settings.packs_dir()), inspection_id, staged["provider_id"], version_number)
    recorded = (version_number, staged["data_sha256"], staged["html_sha256"])
    with inspection_lock(warehouse_url, inspection_id) as conn:
        latest = conn.execute(LATEST_SQL, [inspection_id]).fetchone()
        if latest != recorded:
            problem = _staged_problem(files, staged)
            inspection = {"inspection_id": inspection_id, "run_date": staged["run_date"]}
            version = read_version(conn, inspection, staged.get("republish", False)) if problem is None else None
            if version is not None:
                previous = tuple(staged["previous"]) if staged.get("previous") else None
                if version.latest != previous:
                    latest_now = cast(tuple, version.latest)[0]
                    problem = f"another version was recorded since it was staged (latest now v{latest_now})"
                elif version.reason is None or int(version.context.pack_version) != version_number:
                    problem = "the warehouse no longer gives a new version"
                elif (version.data_sha256, sha256_hex(version.html), sha256_hex(version.csv)) != (
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
            assert version is not None  # there is no problem, so the pack was read again
            # The version recorded is the one approved, even if the approval said another reason.
            record_version(conn, dataclasses.replace(version, reason=staged["reason"]))
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
        if sha256_hex(files[kind].read_bytes()) != staged[f"{kind}_sha256"]:
            return f"its staged {kind.upper()} file {files[kind]} changed after it was staged"
    return None
