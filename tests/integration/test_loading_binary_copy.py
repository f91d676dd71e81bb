"""The loader's binary COPY against a real PostgreSQL: every kind of value arrives exactly as sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pyarrow as pa
import pytest

from probation_evidence.sources import contracts
from probation_evidence.sources.contracts import Contract, Field
from probation_evidence.sources.landing import land_table
from probation_evidence.sources.loading import load_landed_file

pytestmark = pytest.mark.warehouse

PERIOD = date(2025, 6, 30)
PROVIDER = "N07"

KINDS = Contract(
    source="testkinds",
    entity="values",
    version="1.0",
    transport="file",
    description="Test only: one column of every kind.",
    key=("id",),
    fields=(
        Field("id", "text"),
        Field("label", "text", required=False),
        Field("amount", "numeric", required=False),
        Field("count", "integer", required=False),
        Field("day", "date", required=False),
        Field("moment", "timestamp", required=False),
        Field("flag", "boolean", required=False),
    ),
)

TEXTS = ["", None, "Ysbyty Gwynedd – Bangor ŵ ŷ 😀", 'tab\there "quoted", back\\slash\nnewline', "x" * 5000]
AMOUNTS = [0.1 + 0.2, 1e-7, 1e22, -0.5, 123456.789, 0.0, None, 37.0, -(2.0**53) + 1, 1e-15, 9.1e15]
COUNTS = [-(2**31), 2**31 - 1, 0, None, 42]
DAYS = ["1899-12-31", "1970-01-01", "1999-12-31", "2000-01-01", "2024-02-29", None, "0001-01-01"]
MOMENTS = [  # landed typed: microseconds, before 1970 and 2000, a zone other than UTC
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
    datetime(1969, 7, 20, 20, 17, 40, tzinfo=timezone(timedelta(hours=-5))),
    None,
]
FLAGS = ["yes", "false", None, "T"]


def _rows(n: int) -> list[dict]:
    return [
        {
            "id": f"ROW-{i:05d}",
            "label": TEXTS[i % len(TEXTS)],
            "amount": AMOUNTS[i % len(AMOUNTS)],
            "count": COUNTS[i % len(COUNTS)],
            "day": DAYS[i % len(DAYS)],
            "moment": MOMENTS[i % len(MOMENTS)],
            "flag": FLAGS[i % len(FLAGS)],
        }
        for i in range(n)
    ]


def _table(rows: list[dict]) -> pa.Table:
    types = {"amount": pa.float64(), "count": pa.int64(), "moment": pa.timestamp("us", tz="UTC")}
    return pa.table({c: pa.array([r[c] for r in rows], types.get(c, pa.string())) for c in KINDS.column_names})


def _expected(row: dict, row_number: int) -> tuple:
    amount = row["amount"]  # raw numbers are float8: every float64 comes back bit for bit
    moment = row["moment"]
    flag = {"yes": True, "T": True, "false": False, None: None}[row["flag"]]
    day = date.fromisoformat(row["day"]) if row["day"] else None
    return (row["id"], row["label"], amount, row["count"], day, moment, flag, row_number)


@pytest.fixture
def kinds_contract(monkeypatch):
    monkeypatch.setitem(contracts.CONTRACTS, (KINDS.source, KINDS.entity), KINDS)
    return KINDS


def _loaded(conn, batch_id):
    return conn.execute(
        "select id, label, amount, count, day, moment, flag, _row_number from raw.testkinds_values"
        " where _batch_id = %s order by _row_number",
        [batch_id],
    ).fetchall()


def _same(got: tuple, want: tuple) -> bool:
    if got[2] is not None and want[2] is not None and want[2] != want[2]:  # NaN
        return got[2] != got[2] and got[:2] == want[:2] and got[3:] == want[3:]
    return got == want


def test_every_kind_of_value_round_trips_exactly(conn, kinds_contract, tmp_path):
    rows = _rows(420)  # every combination of the value lists above, several times over
    manifest = land_table(_table(rows), kinds_contract, PROVIDER, PERIOD, tmp_path)

    result = load_landed_file(conn, manifest, tmp_path, batch_rows=64)

    assert (result.rows_loaded, result.rows_quarantined) == (420, 0)
    loaded = _loaded(conn, manifest.batch_id)
    expected = [_expected(row, i + 1) for i, row in enumerate(rows)]
    mismatches = [(g, w) for g, w in zip(loaded, expected, strict=True) if not _same(g, w)]
    assert mismatches == []
    # The empty string stays an empty string and null stays null; numbers print as they were sent.
    assert conn.execute(
        "select count(*) filter (where label = ''), count(*) filter (where label is null)"
        " from raw.testkinds_values where _batch_id = %s",
        [manifest.batch_id],
    ).fetchone() == (84, 84)
    texts = conn.execute(
        "select distinct amount::text from raw.testkinds_values where _batch_id = %s and amount in (0.0000001, 37)",
        [manifest.batch_id],
    ).fetchall()
    assert sorted(t[0] for t in texts) == ["1e-07", "37"]


def test_metadata_columns_match_the_batch(conn, kinds_contract, tmp_path):
    manifest = land_table(_table(_rows(10)), kinds_contract, PROVIDER, PERIOD, tmp_path)
    load_landed_file(conn, manifest, tmp_path)

    loaded_at = conn.execute("select loaded_at from audit.load_batches where batch_id = %s", [manifest.batch_id])
    meta = conn.execute(
        "select distinct _loaded_at, _source_file from raw.testkinds_values where _batch_id = %s",
        [manifest.batch_id],
    ).fetchall()
    assert meta == [(loaded_at.fetchone()[0], manifest.path)]
    assert abs(meta[0][0] - datetime.now(UTC)) < timedelta(minutes=5)


def test_many_quarantined_rows_pause_the_copy_without_losing_any(conn, kinds_contract, tmp_path):
    rows = _rows(300)
    for i in range(0, 300, 3):  # every third row a duplicate of the row before it
        rows[i]["id"] = rows[i - 1]["id"] if i else rows[i]["id"]
    manifest = land_table(_table(rows), kinds_contract, PROVIDER, PERIOD, tmp_path)

    result = load_landed_file(conn, manifest, tmp_path, batch_rows=16)

    assert (result.rows_landed, result.rows_loaded, result.rows_quarantined) == (300, 201, 99)
    counts = conn.execute(
        "select (select count(*) from raw.testkinds_values where _batch_id = %(b)s),"
        " (select count(*) from audit.quarantine where batch_id = %(b)s and reason like '%%duplicate key%%')",
        {"b": manifest.batch_id},
    ).fetchone()
    assert counts == (201, 99)
    assert (
        len(
            conn.execute(
                "select distinct id from raw.testkinds_values where _batch_id = %s", [manifest.batch_id]
            ).fetchall()
        )
        == 201
    )


def test_values_postgres_cannot_hold_quarantine_their_row_not_the_slice(conn, kinds_contract, tmp_path):
    """Values PostgreSQL cannot hold in the raw column (an integer beyond int4, NaN and infinities, a NUL
    character) would fail the whole COPY, and with it the slice: each quarantines its own row instead."""
    rows = _rows(8)
    rows[1]["count"] = 2**31
    rows[2]["amount"] = float("nan")
    rows[3]["amount"] = float("inf")
    rows[4]["label"] = "before\x00after"
    manifest = land_table(_table(rows), kinds_contract, "N50", PERIOD, tmp_path)

    result = load_landed_file(conn, manifest, tmp_path)

    assert (result.rows_landed, result.rows_loaded, result.rows_quarantined) == (8, 4, 4)
    quarantined = conn.execute(
        "select row_number, field, reason, original_values from audit.quarantine where batch_id = %s order by 1",
        [manifest.batch_id],
    ).fetchall()
    assert [(q[0], q[1]) for q in quarantined] == [(2, "count"), (3, "amount"), (4, "amount"), (5, "label")]
    assert "out of range for integer" in quarantined[0][2]
    assert quarantined[1][2] == quarantined[2][2] == "amount: not a finite number"
    assert "NUL" in quarantined[3][2]
    assert (quarantined[1][3]["amount"], quarantined[2][3]["amount"]) == ("NaN", "Infinity")
    assert quarantined[3][3]["label"] == "before\\u0000after"  # kept, visibly, as text jsonb accepts
    loaded = [row[-1] for row in _loaded(conn, manifest.batch_id)]
    assert loaded == [1, 6, 7, 8]
