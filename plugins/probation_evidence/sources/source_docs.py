"""`docs/sources.md`, generated from the source contracts so it cannot go stale.

python -m probation_evidence.sources.source_docs            rewrite docs/sources.md
python -m probation_evidence.sources.source_docs --check    exit 1 if it differs from the contracts
"""

from __future__ import annotations

import argparse
import sys

from probation_evidence import settings
from probation_evidence.sources.contracts import CONTRACTS, Contract, Field, families

HEADER = """# Provider sources

Generated from the source contracts in `plugins/probation_evidence/sources/contracts/` by
`python -m probation_evidence.sources.source_docs`; a test fails if this file and the contracts disagree.

Every landed file is validated against its entity's contract before it reaches `raw`. A row that breaks a
rule is not loaded: it goes to `audit.quarantine` with the file, its row number, the field, the reason and
the values as they arrived, and for every batch rows landed = rows loaded + rows quarantined. A file whose
columns differ from the contract (a new, missing or retyped column) is not loaded at all: the slice stops
with a message that names the file and the columns. Each provider's expected submissions, and whether they
arrived on time, late or not at all, are recorded in `audit.submissions`.

Rules that apply to every entity: the provider in a file must be the provider it came from; PDU codes must
belong to that provider; the key must be unique within the file. What each kind of bad input leads to is in
`docs/bad-input.md`.

**Provider APIs** (families delivered by API):
`GET /v1/providers/{provider_id}/{entity}?as_at=YYYY-MM-DD&page=N&page_size=M`, with
`Authorization: Bearer <token>` (the token is the password of the family's Airflow connection, `<family>_api`).
Responses are `{"data": [...], "page", "page_size", "total_records", "total_pages", "next_page"}`; 401, 404
and 400 come with a JSON error. 429 and 5xx are retried with exponential backoff, honouring `Retry-After`;
a page served twice, malformed JSON or a short count fails the provider's extract.

**File drops** (families delivered as files):
`<DROPS_DIR>/<family>/<provider_id>/<entity>_<YYYYMMDD>.csv|xlsx|parquet`, named by the period end. CSV may
be UTF-8 (with or without BOM) or Windows-1252; headers may use any spelling listed under "also accepted
as" below, in any case or spacing, in any order. A file's arrival (modification) time decides whether it
was on time.
"""


def _rules(f: Field, contract: Contract) -> str:
    rules = ["required" if f.required else "optional"]
    if f.allowed:
        rules.append("one of " + ", ".join(f"`{v}`" for v in f.allowed))
    if f.minimum is not None:
        rules.append(f"{'>' if f.min_exclusive else '≥'} {f.minimum:g}")
    if f.maximum is not None:
        rules.append(f"≤ {f.maximum:g}")
    if f.references == "provider":
        rules.append("the file's provider")
    if f.references == "pdu":
        rules.append("a PDU of the provider")
    if f.is_period:
        rules.append("equals the file's period")
    if f.not_after_period:
        rules.append("not after the period")
    rules += [f"not before `{earlier}`" for earlier, later in contract.date_order if later == f.name]
    return "; ".join(rules)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    lines = [HEADER]
    for family in families():
        contracts = sorted((c for c in CONTRACTS.values() if c.source == family), key=lambda c: c.entity)
        lines.append(f"## {family}\n")
        for c in contracts:
            lines.append(f"### {family}.{c.entity} (v{c.version})\n")
            lines.append(f"{c.description}\n")
            lines.append(
                f"Delivered by {'the provider API' if c.transport == 'api' else 'file drop'}; "
                f"frequency {c.frequency}; due {c.due_days} days after the period ends; "
                f"loaded into `{c.qualified_table}`; key ({', '.join(f'`{k}`' for k in c.key)}).\n"
            )
            lines.append("| field | type | rules | also accepted as | description |")
            lines.append("|---|---|---|---|---|")
            for f in c.fields:
                aliases = ", ".join(f"`{a}`" for a in f.aliases)
                lines.append(f"| `{f.name}` | {f.kind} | {_rules(f, c)} | {aliases} | {_cell(f.description)} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    path = settings.project_root() / "docs" / "sources.md"
    text = render()
    if args.check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} is stale: run `python -m probation_evidence.sources.source_docs`", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
