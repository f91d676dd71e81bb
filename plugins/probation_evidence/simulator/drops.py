"""Write the simulated providers' file drops, with the mess real provider files have.

For every (family, entity) in `simulator.catalogue.file_drops()`, every provider and every expected period
(`periods.expected_periods`), one file ``<root>/<family>/<provider_id>/<entity>_<YYYYMMDD>.<ext>``. Each
provider's export tool has its habits, fixed per provider (and family or entity): the format (CSV mostly;
XLSX from some feedback and governance tools, Parquet from some workload tools), the text encoding (UTF-8,
UTF-8 with a byte-order mark, Windows-1252), header spellings (contract aliases in varying case and spacing),
column order, how booleans are written and line endings. Per file, deterministically: a few bad rows in
some files (impossible values, unknown PDUs, future dates, duplicate keys: about 0.5% of rows), ~10% of
files arrive late (mtime after the period end + the contract's `due_days`), ~3% never arrive. On-time
files get an mtime before their due date.

What was written, and what was deliberately broken or left out, goes to a drop log JSON kept with the
simulator's truth: tests read it, the pipeline never does. Everything is a pure function of (seed, as_at,
size, providers): the same arguments write the same bytes and mtimes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from random import Random

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

from probation_evidence import settings
from probation_evidence.reference.periods import expected_periods
from probation_evidence.reference.registry import load_regions, pdus_by_region
from probation_evidence.simulator.catalogue import file_drops
from probation_evidence.simulator.people import SIZE_SCALE
from probation_evidence.simulator.rng import seeded_rng
from probation_evidence.sources.connectors.drop_cells import format_number
from probation_evidence.sources.contracts import Contract, get_contract

MISSING_SHARE = 0.03
LATE_SHARE = 0.10
BAD_FILE_SHARE = 0.4
BAD_ROW_SHARE = 0.0125  # of the rows of a file with bad rows: ~0.5% of all rows
LATE_DAYS_MAX = 30
#: Families whose tools export spreadsheets for some providers, and the formats they choose between.
FORMAT_CHOICES = {
    "feedback": (("csv", 0.65), ("xlsx", 0.35)),
    "governance": (("csv", 0.6), ("xlsx", 0.4)),
    "workload": (("csv", 0.65), ("parquet", 0.35)),
}
ENCODING_CHOICES = (("utf-8", 0.5), ("utf-8-sig", 0.3), ("cp1252", 0.2))
BOOL_STYLES = (("true", "false"), ("TRUE", "FALSE"), ("Yes", "No"), ("Y", "N"), ("1", "0"))
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "parquet": "parquet"}
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class DropRecord:
    """One expected file: where it went and how it was made, or that it was deliberately not written."""

    family: str
    entity: str
    provider_id: str
    period: str
    due_date: str
    path: str | None  # relative to the drops root; None when omitted
    format: str
    encoding: str | None  # text encoding of CSV files
    is_missing: bool
    is_late: bool
    received_at: str | None
    rows: int = 0  # data rows in the file, bad rows included
    headers: list[str] = field(default_factory=list)
    bool_style: list[str] = field(default_factory=lambda: ["true", "false"])
    #: [row index in the file (0 = first data row), kind, field] of each deliberately bad row.
    bad_rows: list[list] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------------------------------ habits
def _weighted(rng: Random, choices) -> str:
    roll, total = rng.random(), 0.0
    for value, weight in choices:
        total += weight
        if roll < total:
            return value
    return choices[-1][0]


def _header_label(rng: Random, name: str, aliases: tuple[str, ...]) -> str:
    """One provider's spelling of a column: the name or an alias, in some case, maybe padded."""
    label = rng.choice((name, *aliases))
    words = re.split(r"[\s_]+", label.strip())
    style = rng.randrange(5)
    if style == 1:
        label = label.upper()
    elif style == 2:
        label = " ".join(w[:1].upper() + w[1:] for w in words)
    elif style == 3:
        label = "".join(w[:1].upper() + w[1:] for w in words)
    elif style == 4:
        label = label.lower()
    return label + (" " if rng.random() < 0.05 else "")


@dataclass(frozen=True)
class _Habits:
    format: str
    encoding: str | None
    headers: dict  # field name -> label
    order: tuple[str, ...]
    bool_style: tuple[str, str]
    newline: str


def _habits(seed: int, family: str, provider_id: str, contract: Contract) -> _Habits:
    tool = seeded_rng(seed, "drop-habits", family, provider_id)
    fmt = _weighted(tool, FORMAT_CHOICES.get(family, (("csv", 1.0),)))
    newline = "\r\n" if tool.random() < 0.5 else "\n"
    rng = seeded_rng(seed, "drop-habits", family, provider_id, contract.entity)
    encoding = _weighted(rng, ENCODING_CHOICES) if fmt == "csv" else None
    headers = {f.name: _header_label(rng, f.name, f.aliases) for f in contract.fields}
    order = list(contract.column_names)
    if rng.random() < 0.3:
        rng.shuffle(order)
    bool_style = rng.choice(BOOL_STYLES) if fmt == "csv" else ("true", "false")
    return _Habits(fmt, encoding, headers, tuple(order), bool_style, newline)


# ------------------------------------------------------------------------------------------ values
def canonical(value: object) -> str | None:
    """A generated value as the text a reader should get back: ISO dates, plain numbers, true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)


def render_value(value: object, kind: str, bool_style=("true", "false")) -> str | None:
    """How a file writes a value (as text): booleans in the provider's style, the rest canonical."""
    text = canonical(value)
    if kind == "boolean" and text in ("true", "false"):
        return bool_style[0] if text == "true" else bool_style[1]
    return text


def expected_row(record: dict, contract: Contract, bool_style=("true", "false")) -> dict:
    """The strings `read_drop_file` returns for a good generated record written in `bool_style`."""
    return {f.name: render_value(record.get(f.name), f.kind, bool_style) for f in contract.fields}


# ------------------------------------------------------------------------------------------ bad rows
def _corruptions(contract: Contract) -> list[tuple[str, str]]:
    """(kind, field) pairs that make a row fail this contract's validation."""
    options = [("duplicate_key", ",".join(contract.key))]
    for f in contract.fields:
        if f.maximum is not None:
            options.append(("impossible_value", f.name))
        elif f.allowed is not None:
            options.append(("not_allowed", f.name))
        elif f.kind == "boolean":
            options.append(("not_a_boolean", f.name))
        if f.references == "pdu":
            options.append(("unknown_pdu", f.name))
        if f.not_after_period:
            options.append(("future_date", f.name))
    return options


def _break(record: dict, kind: str, name: str, contract: Contract, provider_id: str, period: date) -> dict:
    broken = dict(record)
    if kind == "impossible_value":
        maximum = contract.field(name).maximum
        if maximum is None:
            raise ValueError(f"{contract.entity}.{name} has no maximum to break")
        broken[name] = int(maximum * 10 + 9) if contract.field(name).kind == "integer" else maximum * 10 + 9.5
    elif kind == "not_allowed":
        broken[name] = "unknown_value"
    elif kind == "not_a_boolean":
        broken[name] = "maybe"
    elif kind == "unknown_pdu":
        broken[name] = f"{provider_id}-99"
    elif kind == "future_date":
        broken[name] = (period + timedelta(days=400)).isoformat()
    return broken


def with_bad_rows(records: list[dict], contract: Contract, provider_id: str, period: date, rng: Random):
    """The records with a few deliberately bad rows: (rows, [[index, kind, field], ...])."""
    rows: list[tuple[dict, tuple[str, str] | None]] = [(r, None) for r in records]
    if not records:
        return records, []
    options = _corruptions(contract)
    duplicated: set[int] = set()  # ids of records copied: left intact, or the copy might not clash
    for _ in range(max(1, round(len(records) * BAD_ROW_SHARE))):
        kind, name = rng.choice(options)
        index = rng.randrange(len(rows))
        record, flag = rows[index]
        if flag is not None or id(record) in duplicated:
            continue
        if kind == "duplicate_key":
            duplicated.add(id(record))
            rows.insert(index + 1, (dict(record), (kind, name)))
        else:
            rows[index] = (_break(record, kind, name, contract, provider_id, period), (kind, name))
    bad = [[i, flag[0], flag[1]] for i, (_, flag) in enumerate(rows) if flag]
    return [r for r, _ in rows], bad


# ------------------------------------------------------------------------------------------ formats
def _csv_bytes(rows: list[dict], contract: Contract, habits: _Habits) -> tuple[bytes, str]:
    kinds = {f.name: f.kind for f in contract.fields}
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=habits.newline)
    writer.writerow([habits.headers[n] for n in habits.order])
    for row in rows:
        values = [render_value(row.get(n), kinds[n], habits.bool_style) for n in habits.order]
        writer.writerow(["" if v is None else v for v in values])
    text = buffer.getvalue()
    encoding = habits.encoding or "utf-8"  # every CSV habit has an encoding
    try:
        return text.encode(encoding), encoding
    except UnicodeEncodeError:  # a character Windows-1252 lacks: this tool would have exported UTF-8
        return text.encode("utf-8"), "utf-8"


def _xlsx_cell(text: str | None, kind: str):
    if text is None:
        return None
    try:
        if kind == "integer":
            return int(text)
        if kind == "numeric":
            return float(text)
        if kind == "date":
            return date.fromisoformat(text)
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
    except ValueError:
        pass
    return text  # a bad value, or text: written as typed in


def _normalise_zip(data: bytes, stamp: datetime) -> bytes:
    """Rewrite an XLSX with fixed entry times and document dates, so the bytes are reproducible."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", rb"\g<1>" + iso + rb"\3", content
                )
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, content)
    return out.getvalue()


def _xlsx_bytes(rows: list[dict], contract: Contract, habits: _Habits, period: date) -> bytes:
    kinds = {f.name: f.kind for f in contract.fields}
    workbook = Workbook(write_only=True)
    stamp = datetime.combine(period, time(0))
    workbook.properties.created = stamp
    workbook.properties.creator = "Survey export"
    sheet = workbook.create_sheet(title=contract.entity[:31])
    sheet.append([habits.headers[n] for n in habits.order])
    for row in rows:
        sheet.append([_xlsx_cell(render_value(row.get(n), kinds[n]), kinds[n]) for n in habits.order])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _normalise_zip(buffer.getvalue(), stamp)


_ARROW_TYPES = {"integer": "int64", "numeric": "float64", "date": "date32", "boolean": "bool"}


def _parquet_bytes(rows: list[dict], contract: Contract, habits: _Habits) -> bytes:
    """Typed columns where every value fits the contract type, text columns where some do not."""

    kinds = {f.name: f.kind for f in contract.fields}
    arrays, names = [], []
    for name in habits.order:
        text = pa.array([render_value(row.get(name), kinds[name]) for row in rows], pa.string())
        target = _ARROW_TYPES.get(kinds[name])
        if target:
            # A bad value makes the export fall back to text, as loosely typed tools do.
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                text = text.cast(target)
        arrays.append(text)
        names.append(habits.headers[name])
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=names), buffer, compression="snappy")
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------ timing
def _at(day: date, rng: Random) -> datetime:
    return datetime.combine(day, time(rng.randint(7, 19), rng.randrange(60), rng.randrange(60)), UTC)


def _received_at(rng: Random, period: date, due: date, as_at: date, late: bool) -> tuple[datetime, bool]:
    """When the file arrived: after its due date if late (and the as-at date allows), else by the due date."""
    if late and as_at > due:
        return _at(due + timedelta(days=rng.randint(1, min(LATE_DAYS_MAX, (as_at - due).days))), rng), True
    first = period + timedelta(days=1)
    last = max(first, min(due, as_at))
    return _at(first + timedelta(days=rng.randint(0, (last - first).days)), rng), False


# ------------------------------------------------------------------------------------------ writing
def _write_one(root: Path, seed: int, as_at: date, size: str, family: str, contract, generator, provider_id, period):
    rng = seeded_rng(seed, "drop", family, contract.entity, provider_id, period)
    habits = _habits(seed, family, provider_id, contract)
    due = period + timedelta(days=contract.due_days)
    relative = Path(family) / provider_id / f"{contract.entity}_{period:%Y%m%d}.{EXTENSIONS[habits.format]}"
    drop = DropRecord(
        family, contract.entity, provider_id, period.isoformat(), due.isoformat(), None, habits.format,
        habits.encoding, is_missing=False, is_late=False, received_at=None,
    )  # fmt: skip
    missing, late, bad = rng.random() < MISSING_SHARE, rng.random() < LATE_SHARE, rng.random() < BAD_FILE_SHARE
    target = root / relative
    if missing:
        target.unlink(missing_ok=True)
        drop.is_missing = True
        return drop
    records = generator(seed, period, provider_id, size)
    if bad:
        records, drop.bad_rows = with_bad_rows(records, contract, provider_id, period, rng)
    if habits.format == "csv":
        data, drop.encoding = _csv_bytes(records, contract, habits)
    elif habits.format == "xlsx":
        data = _xlsx_bytes(records, contract, habits, period)
    else:
        data = _parquet_bytes(records, contract, habits)
    received, drop.is_late = _received_at(rng, period, due, as_at, late)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    os.utime(target, (received.timestamp(), received.timestamp()))
    drop.path = relative.as_posix()
    drop.received_at = received.isoformat()
    drop.rows = len(records)
    drop.headers = [habits.headers[n] for n in habits.order]
    drop.bool_style = list(habits.bool_style)
    return drop


def default_log_path(root: Path) -> Path:
    """Where the drop log goes by default: beside the drops folder, in a `truth` folder the pipeline never reads."""
    return Path(root).parent / "truth" / f"{Path(root).name}-drop-log.json"


def write_drops(
    root: Path,
    seed: int,
    as_at: date,
    size: str = "small",
    providers: Iterable[str] | None = None,
    log_path: Path | None = None,
) -> list[DropRecord]:
    """Write every provider's file drops for the expected periods to `as_at`; return what was done."""
    root = Path(root)
    providers = sorted(providers) if providers is not None else [r.region_code for r in load_regions()]
    unknown = [p for p in providers if p not in pdus_by_region()]
    if unknown:
        raise ValueError(f"unknown providers: {', '.join(unknown)}")
    drops = []
    for (family, entity), generator in sorted(file_drops().items()):
        contract = get_contract(family, entity)
        for provider_id in providers:
            for period in expected_periods(contract.frequency, as_at):
                drops.append(_write_one(root, seed, as_at, size, family, contract, generator, provider_id, period))
    write_drop_log(log_path or default_log_path(root), drops, seed, as_at, size)
    return drops


def write_drop_log(path: Path, drops: list[DropRecord], seed: int, as_at: date, size: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "description": "Simulator drop log: what was written, late, broken or omitted. Not pipeline input.",
        "seed": seed,
        "as_at": as_at.isoformat(),
        "size": size,
        "drops": [d.to_dict() for d in drops],
    }
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_drop_log(path: Path) -> list[DropRecord]:
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return [DropRecord(**d) for d in document["drops"]]


# ------------------------------------------------------------------------------------------ command line
def _write_drops_command(args) -> int:
    drops = write_drops(args.root, args.seed, args.as_at, args.size, args.providers, args.log)
    written = [d for d in drops if not d.is_missing]
    print(
        f"{len(written)} files written to {args.root} ({sum(d.is_late for d in written)} late, "
        f"{sum(bool(d.bad_rows) for d in written)} with bad rows), {len(drops) - len(written)} omitted; "
        f"log: {args.log or default_log_path(args.root)}"
    )
    return 0


def add_drops_command(subparsers) -> None:
    """Add ``write-drops`` to the simulator's command line (`subparsers` from ``add_subparsers``)."""
    command = subparsers.add_parser("write-drops", help="write every provider's file drops (CSV/XLSX/Parquet)")
    command.add_argument("--root", type=Path, default=settings.drops_dir(), help="drops folder (default $DROPS_DIR)")
    command.add_argument("--seed", type=int, default=settings.DEMO_SEED)
    command.add_argument("--as-at", type=date.fromisoformat, default=date.today(), help="YYYY-MM-DD")
    command.add_argument("--size", choices=sorted(SIZE_SCALE), default="small")
    command.add_argument("--providers", nargs="+", help="region codes (default: all)")
    command.add_argument("--log", type=Path, help="drop log JSON (default: <root>/../truth/<root name>-drop-log.json)")
    command.set_defaults(handler=_write_drops_command)
