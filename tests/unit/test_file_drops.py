"""Simulated file drops: deterministic bytes and mtimes, the expected files (bar the deliberately missing),
late files after their due date, and every format, encoding and header variant read back exactly."""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from probation_evidence.reference.periods import expected_periods
from probation_evidence.reference.registry import load_regions
from probation_evidence.simulator import drops as drops_module
from probation_evidence.simulator.catalogue import file_drops
from probation_evidence.simulator.drops import default_log_path, expected_row, read_drop_log, write_drops
from probation_evidence.sources.connectors.drop_folders import discover
from probation_evidence.sources.connectors.file_drop import read_drop_file
from probation_evidence.sources.contracts import get_contract
from probation_evidence.sources.validation import validate_batch

SEED = 20260930
AS_AT = date(2026, 9, 30)
PROVIDERS = [region.region_code for region in load_regions()]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("drops") / "drops"
    return root, write_drops(root, SEED, AS_AT, "small")


def _snapshot(root: Path) -> dict:
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_writing_is_deterministic(tmp_path):
    first = write_drops(tmp_path / "a", 7, AS_AT, "small", ["N07", "N03"], log_path=tmp_path / "a.json")
    second = write_drops(tmp_path / "b", 7, AS_AT, "small", ["N07", "N03"], log_path=tmp_path / "b.json")
    assert [d.to_dict() for d in first] == [d.to_dict() for d in second]
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")
    other = write_drops(tmp_path / "c", 8, AS_AT, "small", ["N07", "N03"], log_path=tmp_path / "c.json")
    assert _snapshot(tmp_path / "c") != _snapshot(tmp_path / "a")
    # writing again over the same folder changes nothing
    write_drops(tmp_path / "a", 7, AS_AT, "small", ["N07", "N03"], log_path=tmp_path / "a.json")
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")
    assert len(other) == len(first)


def test_every_expected_file_is_written_except_the_deliberately_missing(written):
    root, drops = written
    by_slot = {(d.family, d.entity, d.provider_id, d.period): d for d in drops}
    expected = set()
    for family, entity in file_drops():
        contract = get_contract(family, entity)
        for provider_id in PROVIDERS:
            for period in expected_periods(contract.frequency, AS_AT):
                expected.add((family, entity, provider_id, period.isoformat()))
    assert set(by_slot) == expected
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert on_disk == {d.path for d in drops if not d.is_missing}
    for d in drops:
        if d.is_missing:
            assert d.path is None
            assert not any((root / d.family / d.provider_id).glob(f"{d.entity}_{d.period.replace('-', '')}.*"))
    missing = sum(d.is_missing for d in drops) / len(drops)
    assert 0.005 < missing < 0.07
    assert read_drop_log(default_log_path(root)) == drops


def test_late_files_arrive_after_their_due_date_and_on_time_files_before(written):
    root, drops = written
    present = [d for d in drops if not d.is_missing]
    late = [d for d in present if d.is_late]
    assert 0.04 < len(late) / len(present) < 0.16
    for d in present:
        received = datetime.fromtimestamp((root / d.path).stat().st_mtime, UTC)
        assert received.isoformat() == d.received_at
        due = date.fromisoformat(d.due_date)
        assert due == date.fromisoformat(d.period) + timedelta(days=get_contract(d.family, d.entity).due_days)
        if d.is_late:
            assert received.date() > due
        else:
            assert date.fromisoformat(d.period) < received.date() <= due


def test_discover_finds_every_file_with_its_period_and_arrival(written):
    root, drops = written
    for family in {d.family for d in drops}:
        for provider_id in ("N07", "N55"):
            found = {(f.entity, f.period.isoformat()): f for f in discover(root, family, provider_id)}
            mine = [d for d in drops if d.family == family and d.provider_id == provider_id and not d.is_missing]
            assert set(found) == {(d.entity, d.period) for d in mine}
            for d in mine:
                f = found[(d.entity, d.period)]
                assert f.path == root / d.path
                assert f.format == d.format
                assert f.received_at.isoformat() == d.received_at


def test_discover_skips_other_names(tmp_path):
    folder = tmp_path / "feedback" / "N07"
    folder.mkdir(parents=True)
    for name in ("complaints_20260930.csv", "notes.txt", "complaints_2026.csv", ".complaints_20260930.csv.tmp",
                 "~$complaints_20260630.xlsx", "complaints_20261399.csv"):  # fmt: skip
        (folder / name).write_text("x\n")
    assert [(f.entity, f.period) for f in discover(tmp_path, "feedback", "N07")] == [("complaints", date(2026, 9, 30))]
    assert discover(tmp_path, "feedback", "N99") == []


def _original_index(bad_rows: list, file_index: int) -> int:
    """The generated record a good file row came from: inserted duplicate rows shift the file's rows."""
    return file_index - sum(1 for index, kind, _ in bad_rows if kind == "duplicate_key" and index < file_index)


def test_reader_reads_every_variant_back_to_the_generated_records(written):
    root, drops = written
    generators = file_drops()
    variants = Counter()
    for d in drops:
        if d.is_missing:
            continue
        contract = get_contract(d.family, d.entity)
        table = read_drop_file(root / d.path, contract)
        assert set(table.column_names) == set(contract.column_names), d.path
        assert all(t == pa.string() for t in table.schema.types)
        rows = table.select(contract.column_names).to_pylist()
        assert len(rows) == d.rows
        records = generators[(d.family, d.entity)](SEED, date.fromisoformat(d.period), d.provider_id, "small")
        bad = {index for index, _, _ in d.bad_rows}
        corrupted = {_original_index(d.bad_rows, i) for i, kind, _ in d.bad_rows if kind != "duplicate_key"}
        got = [row for i, row in enumerate(rows) if i not in bad]
        want = [expected_row(r, contract, d.bool_style) for i, r in enumerate(records) if i not in corrupted]
        assert got == want, d.path
        variants.update([("format", d.format), ("encoding", d.encoding), ("bools", tuple(d.bool_style))])
        variants.update(("header", h) for h in d.headers if h not in contract.column_names)
    assert {"csv", "xlsx"} <= {v for k, v in variants if k == "format"}
    if any(family == "workload" for family, _ in generators):
        assert ("format", "parquet") in variants
    assert {"utf-8", "utf-8-sig", "cp1252"} <= {v for k, v in variants if k == "encoding"}
    assert len([k for k in variants if k[0] == "bools"]) >= 3
    assert len([k for k in variants if k[0] == "header"]) >= 20  # aliases and case variants, not bare names


def test_encodings_are_really_different_on_disk(written):
    root, drops = written
    csvs = [d for d in drops if d.format == "csv" and not d.is_missing]
    boms = [d for d in csvs if (root / d.path).read_bytes().startswith(b"\xef\xbb\xbf")]
    assert boms and all(d.encoding == "utf-8-sig" for d in boms)
    cp1252_with_accents = []
    for d in csvs:
        if d.encoding == "cp1252":
            data = (root / d.path).read_bytes()
            if any(b > 127 for b in data):
                with pytest.raises(UnicodeDecodeError):
                    data.decode("utf-8")
                cp1252_with_accents.append(d)
    assert cp1252_with_accents, "no Windows-1252 file with a non-ASCII character"


def test_good_rows_pass_the_contract_and_bad_rows_fail(written):
    root, drops = written
    kinds = Counter()
    for d in drops:
        if d.is_missing:
            continue
        contract = get_contract(d.family, d.entity)
        table = read_drop_file(root / d.path, contract).select(contract.column_names)
        bad = {index for index, _, _ in d.bad_rows}
        failing = set()
        for batch in table.to_batches() or []:
            _, _, checks = validate_batch(batch, contract, d.provider_id, date.fromisoformat(d.period), set())
            for check in checks:
                failing |= set(pc.indices_nonzero(check.mask).to_pylist())
        assert failing == bad, (d.path, sorted(failing - bad)[:5], sorted(bad - failing)[:5])
        kinds.update(kind for _, kind, _ in d.bad_rows)
    assert {"duplicate_key", "unknown_pdu", "future_date", "impossible_value"} <= set(kinds)
    rows = sum(d.rows for d in drops if not d.is_missing)
    assert 0.002 < sum(kinds.values()) / rows < 0.01


def test_write_drops_command(tmp_path, monkeypatch, capsys):
    parser = argparse.ArgumentParser()
    drops_module.add_drops_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([
        "write-drops", "--root", str(tmp_path / "drops"), "--seed", "3", "--as-at", "2026-06-30",
        "--providers", "N54", "--log", str(tmp_path / "log.json"),
    ])  # fmt: skip
    assert args.handler(args) == 0
    assert "files written" in capsys.readouterr().out
    assert read_drop_log(tmp_path / "log.json")
    assert any((tmp_path / "drops").rglob("*_20260630.*"))
