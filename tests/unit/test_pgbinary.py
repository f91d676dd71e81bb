"""Binary COPY encoding without a database: numerics are the shortest decimal that reads back exactly."""

from __future__ import annotations

import struct

import pyarrow as pa

from probation_evidence.sources import pgbinary
from probation_evidence.sources.contracts.staffing import STAFF as STAFFING_STAFF
from probation_evidence.sources.validation import _duplicate_mask

SPECIAL = [
    0.1 + 0.2,
    1e-7,
    1e22,
    -0.5,
    123456.789,
    0.0,
    -0.0,
    37.0,
    9.1e15,
    -(2.0**53) + 1,
    1e-15,
    5e-324,
    1.7976931348623157e308,
]


def test_numbers_are_float8_bit_for_bit():
    values = [*SPECIAL, None, float("nan"), float("inf"), -0.0]
    encoded = pgbinary._field(pa.array(values, pa.float64()), "numeric")[0].to_pylist()
    for value, field in zip(values, encoded, strict=True):
        assert field == (b"\xff\xff\xff\xff" if value is None else struct.pack(">id", 8, value))


def test_text_keeps_empty_apart_from_null_and_counts_utf8_bytes():
    prefix, data = pgbinary._field(pa.array(["", None, "ŵ😀"]), "text")
    assert prefix.to_pylist() == [b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x00\x00\x00\x06"]
    assert data.to_pylist() == [b"", b"", "ŵ😀".encode()]


def test_rows_start_with_the_field_count_and_end_with_the_constant_and_tail():
    constant = pgbinary.constant_fields([("text", "batch")])
    rows = bytes(
        pgbinary.encode_rows([pa.array([1.0])], ["integer"], constant, [(pa.array([7], pa.int32()), "integer")])
    )
    assert (
        rows
        == b"\x00\x03"
        + b"\x00\x00\x00\x04\x00\x00\x00\x01"
        + b"\x00\x00\x00\x05batch"
        + b"\x00\x00\x00\x04\x00\x00\x00\x07"
    )


def test_duplicate_mask_flags_later_occurrences_across_batches():
    seen: set = set()

    def flags(ids):
        cols = {"staff_id": pa.array(ids), "as_at_date": pa.array(["2025-03-31"] * len(ids))}
        return _duplicate_mask(STAFFING_STAFF, cols, seen).to_pylist()

    assert flags(["a", "b", "c"]) == [False, False, False]
    assert flags(["d", "d", "e", "d"]) == [False, True, False, True]
    assert flags(["a", "f", "f", "g", "c"]) == [True, False, True, False, True]
    assert flags([]) == []
