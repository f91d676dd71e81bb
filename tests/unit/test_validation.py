"""Parsing the text providers send into contract types: what is accepted, and what is flagged."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from probation_evidence.sources.contracts import Field
from probation_evidence.sources.validation import (
    CELL_PROBLEMS_KEY,
    _field_checks,
    _original_json,
    _parse,
    cell_problems,
)


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("date", "2024-02-29", date(2024, 2, 29)),
        ("date", "2026-02-30", None),  # strptime alone would roll this into March
        ("date", "2026-13-01", None),
        ("date", "30/09/2026", None),
        ("timestamp", "2026-01-02T10:00:05Z", datetime(2026, 1, 2, 10, 0, 5, tzinfo=UTC)),
        ("timestamp", "2026-01-02 10:00", datetime(2026, 1, 2, 10, 0, tzinfo=UTC)),
        ("timestamp", "2026-01-02T10:00:05.5+01:00", datetime(2026, 1, 2, 9, 0, 5, 500000, tzinfo=UTC)),
        ("timestamp", "1999-12-31T23:59:59.999999+00:00", datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("timestamp", "2026-02-30T10:00:00Z", None),
        ("integer", "42", 42),
        ("integer", "3.5", None),  # flagged, never truncated
        ("numeric", " 1e-3 ", 0.001),
        ("numeric", "12,5", None),
        ("boolean", "Yes", True),
        ("boolean", "0", False),
        ("boolean", "maybe", None),
    ],
)
def test_text_is_parsed_or_flagged(kind, text, expected):
    parsed = _parse(pa.array([text]), Field("x", kind)).to_pylist()[0]
    if isinstance(parsed, datetime):
        parsed = parsed.astimezone(UTC)
    assert parsed == expected


def _reasons(values, kind: str) -> list[list[str]]:
    """For each value, the reasons the field checks give (empty: the value passes)."""
    raw = pa.array(values)
    f = Field("x", kind, required=False, minimum=0.0 if kind == "numeric" else None, maximum=100.0)
    checks = _field_checks(raw, _parse(raw, f), f)
    return [[c.reason for c in checks if c.mask[i].as_py()] for i in range(len(values))]


@pytest.mark.parametrize("text", ["NaN", "nan", "inf", " Infinity", "-Infinity", "+inf", "1e999"])
@pytest.mark.parametrize("kind", ["numeric", "integer"])
def test_text_nan_and_infinity_are_not_finite_numbers(text, kind):
    assert _reasons([text, "7"], kind) == [["not a finite number"], []]


@pytest.mark.parametrize("kind", ["numeric", "integer"])
def test_float_nan_and_infinity_are_not_finite_numbers(kind):
    """A float NaN once sailed through the cast into raw (and +inf past a maximum check into 'must be <=')."""
    values = [float("nan"), float("inf"), float("-inf"), 1.0, None]
    assert _reasons(values, kind) == [["not a finite number"]] * 3 + [[], []]


def test_integers_outside_postgres_integer_are_flagged_not_left_to_fail_the_copy():
    raw = pa.array([2.0**31, -(2.0**31), 2.0**31 - 1, -(2.0**31) - 1])
    f = Field("x", "integer")
    checks = _field_checks(raw, _parse(raw, f), f)
    flagged = [[c.reason for c in checks if c.mask[i].as_py()] for i in range(len(raw))]
    assert flagged == [["out of range for integer (-2147483648..2147483647)"], [], [], [flagged[0][0]]]


def test_a_nul_character_in_text_is_flagged():
    raw = pa.array(["plain", "nul\x00inside", None, "\x00"])
    f = Field("x", "text", required=False)
    (nul,) = [c for c in _field_checks(raw, _parse(raw, f), f) if "NUL" in c.reason]
    assert nul.mask.to_pylist() == [False, True, False, True]


def test_quarantined_values_are_kept_as_json_postgres_accepts():
    """jsonb refuses NaN, Infinity and \\u0000; the original values of such rows are still kept, as text."""
    import json

    text = _original_json({"a": float("nan"), "b": float("-inf"), "c": "x\x00y", "d": 1.5, "e": date(2025, 1, 2)})
    assert "\\u0000" not in text.replace("\\\\u0000", "")  # no real NUL escape left
    assert json.loads(text) == {"a": "NaN", "b": "-Infinity", "c": "x\\u0000y", "d": 1.5, "e": "2025-01-02"}
    assert _original_json({"a": 1, "b": "ok"}) == '{"a": 1, "b": "ok"}'


def test_cell_problems_metadata_is_read_and_checked():
    from pathlib import Path

    problems = [
        {"row": 0, "field": "fte", "reason": "formula cell has no cached value"},
        {"row": 4, "field": "fte", "reason": "formula cell has no cached value"},
        {"row": 2, "field": "grade", "reason": "formula cell has no cached value"},
    ]
    metadata = {CELL_PROBLEMS_KEY: json.dumps(problems).encode()}
    assert cell_problems(metadata, 5, Path("f.parquet")) == {
        ("fte", "formula cell has no cached value"): [0, 4],
        ("grade", "formula cell has no cached value"): [2],
    }
    assert cell_problems(None, 5, Path("f.parquet")) == {}
    with pytest.raises(ValueError, match=r"f.parquet: malformed pe:cell_problems metadata: row 4 is not a row"):
        cell_problems(metadata, 5 - 1, Path("f.parquet"))
    with pytest.raises(ValueError, match="malformed"):
        cell_problems({CELL_PROBLEMS_KEY: b"{not json"}, 5, Path("f.parquet"))
