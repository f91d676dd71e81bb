"""Binary COPY encoding without a database: numerics are the shortest decimal that reads back exactly."""

from __future__ import annotations

import random
import struct
from decimal import Decimal, localcontext

import pyarrow as pa
import pytest

from probation_evidence import pgbinary
from probation_evidence.contracts import STAFFING_STAFF
from probation_evidence.loading import _duplicate_mask


def _decode_numeric(field: bytes):
    (length,) = struct.unpack_from(">i", field)
    if length == -1:
        return None
    ndigits, weight, sign, dscale = struct.unpack_from(">hhHH", field, 4)
    assert length == 8 + 2 * ndigits
    if sign == 0xC000:
        return "NaN"
    digits = struct.unpack_from(f">{ndigits}h", field, 12)
    with localcontext() as ctx:
        ctx.prec = 1000
        value = sum((Decimal(d) * Decimal(10000) ** (weight - i) for i, d in enumerate(digits)), Decimal(0))
    return (-value if sign == 0x4000 else value), dscale


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


@pytest.mark.parametrize("small", [True, False], ids=["small values", "any magnitude"])
def test_numeric_is_the_shortest_exact_decimal(small):
    rng = random.Random(7)
    if small:  # one batch of small values: the short encoding (fewer base-10000 digits) is used
        values = [round(rng.uniform(-99, 99), rng.randint(0, 4)) for _ in range(5000)] + [None, 0.0, 12.5]
    else:
        values = SPECIAL + [None, float("nan")] + [rng.uniform(-1, 1) * 10 ** rng.randint(-20, 20) for _ in range(5000)]
    encoded = pgbinary._numeric_field(pa.array(values, pa.float64()))[0].to_pylist()
    for value, field in zip(values, encoded, strict=True):
        decoded = _decode_numeric(field)
        if value is None or value != value:
            assert decoded == (None if value is None else "NaN")
            continue
        exact = Decimal(repr(value)).normalize()
        assert decoded == (exact, max(0, -exact.as_tuple().exponent)), value
        assert float(decoded[0]) == value


def test_text_keeps_empty_apart_from_null_and_counts_utf8_bytes():
    prefix, data = pgbinary._text_field(pa.array(["", None, "ŵ😀"]))
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
