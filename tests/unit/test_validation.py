"""Parsing the text providers send into contract types: what is accepted, and what is flagged."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from probation_evidence.contracts import Field
from probation_evidence.loading import _parse


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
