"""The pack's words for numbers, dates and comparisons: locale-free, so output is identical on every machine.

Also the <mark> highlighting of the phrase an indicator echoes in a characteristic, which never emits
unescaped data.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from markupsafe import Markup, escape

from probation_evidence.packs.charts.words import format_indicator_value, signed

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Shape + words for each comparison, so the result never depends on colour alone.
COMPARISONS: dict[str | None, tuple[str, str, str]] = {
    "better": ("\u25b2", "Better than national", "better"),
    "similar": ("\u25cf", "Similar to national", "similar"),
    "worse": ("\u25bc", "Worse than national", "worse"),
    "not compared": ("\u25cb", "Not compared with national", "not-compared"),
    None: ("\u25cb", "No comparison available", "not-compared"),
}


def format_value(value: float | None, unit: str) -> str:
    """Format an indicator value by its unit: '%' values are proportions shown as percent, 1 dp."""
    return format_indicator_value(value, unit, missing="No value", suffix=f" {unit}" if unit else "")


def format_number(value: float | None) -> str:
    """A count or FTE: thousands separators, at most 2 dp, no trailing zeros, a true minus sign."""
    if value is None:
        return "\u2014"
    text = f"{abs(value):,.2f}".rstrip("0").rstrip(".")
    return signed(text, value)


def format_long_date(value: date) -> str:
    """'30 September 2026', without depending on the process locale."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def format_utc_timestamp(value: datetime) -> str:
    """A load time in UTC to the minute; naive values are taken as already UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{value:%Y-%m-%d %H:%M} UTC"


def format_limits(lower: float | None, upper: float | None, unit: str) -> str:
    if lower is None or upper is None:
        return "Not defined"
    return f"{format_value(lower, unit)} to {format_value(upper, unit)}"


def plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def clean_phrase(phrase: str) -> str:
    return phrase.strip().strip("\"'\u201c\u201d\u2018\u2019").strip()


def highlight_phrase(text: str, phrase: str) -> tuple[Markup, bool]:
    """Escape `text` and wrap the words of `phrase` in <mark>.

    Matching is case-insensitive on the raw text, then each slice is escaped on its own and joined with
    literal <mark> tags, so data can never open or close a tag. A phrase with an ellipsis ("workloads …
    actively managed") is matched part by part, in order. Returns (markup, whether every part was found).
    """
    parts = [p.strip() for p in re.split(r"\u2026|\.\.\.", clean_phrase(phrase)) if p.strip()]
    spans: list[tuple[int, int]] = []
    cursor = 0
    lowered = text.lower()
    for part in parts:
        start = lowered.find(part.lower(), cursor)
        if start < 0:
            return escape(text), False
        spans.append((start, start + len(part)))
        cursor = start + len(part)
    if not spans:
        return escape(text), False
    pieces: list[Markup] = []
    cursor = 0
    for start, end in spans:
        pieces.append(escape(text[cursor:start]))
        pieces.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        cursor = end
    pieces.append(escape(text[cursor:]))
    return Markup("").join(pieces), True
