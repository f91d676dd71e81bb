"""The spine chart's rows: one indicator for one provider, their order, and how each compares with national.

A row's outcome (`_category`) is a key of `_MARKS`, which says how it is drawn and said: better or worse
at 95% only or at 99.8%, similar, not compared, or higher/lower for an indicator with no polarity (never
better or worse). `spine_summary` counts the outcomes in one paragraph, the chart's <desc>.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from probation_evidence.packs.charts.svg import INK, _clean, _num
from probation_evidence.packs.charts.words import _POLARITY, _count


@dataclass(frozen=True)
class SpineRow:
    """One indicator for one provider, with the spread of all providers in the same period."""

    indicator_id: str
    label: str  # indicator name
    standard_id: str  # '1.1'..'1.4'
    unit: str  # '%', 'days', 'rate', 'ratio', 'score', 'cases'
    polarity: str  # 'up' | 'down' | 'none'
    value: float | None  # the provider's value (None: missing or suppressed)
    national_value: float | None
    minimum: float | None  # over all providers with a value in the period
    lower_quartile: float | None
    upper_quartile: float | None
    maximum: float | None
    comparison_95: str | None  # 'better' | 'similar' | 'worse' | 'not compared' | None
    comparison_998: str | None
    peer_value: float | None = None
    is_suppressed: bool = False


# The colour of each outcome; shape and word say it too.
BETTER = "#1d70b8"
WORSE = "#b10e1e"
SIMILAR = "#505a5f"
NEUTRAL = "#5b3a8c"  # higher/lower for an indicator with no polarity: neither good nor bad


@dataclass(frozen=True)
class _Mark:
    """How one comparison outcome is drawn and said."""

    word: str
    shape: str  # 'circle', 'square', 'diamond', 'up', 'down', 'cross'
    filled: bool
    colour: str


_MARKS: dict[str, _Mark] = {
    "better-998": _Mark("Better (99.8%)", "circle", True, BETTER),
    "better-95": _Mark("Better (95%)", "circle", False, BETTER),
    "similar": _Mark("Similar", "diamond", True, SIMILAR),
    "worse-95": _Mark("Worse (95%)", "square", False, WORSE),
    "worse-998": _Mark("Worse (99.8%)", "square", True, WORSE),
    "higher-998": _Mark("Higher (99.8%)", "up", True, NEUTRAL),
    "higher-95": _Mark("Higher (95%)", "up", False, NEUTRAL),
    "lower-95": _Mark("Lower (95%)", "down", False, NEUTRAL),
    "lower-998": _Mark("Lower (99.8%)", "down", True, NEUTRAL),
    "not-compared": _Mark("Not compared", "cross", False, INK),
}
#: Rows with no value to mark: the word only.
_UNMARKED = {"suppressed": "Suppressed", "no-data": "No data"}
_SIGNIFICANT = ("better", "worse", "higher", "lower")
_NATURAL = re.compile(r"(\d+)")


def spine_summary(rows: Iterable[SpineRow]) -> str:
    """One paragraph: how many indicators are better, similar or worse than national at 95% and 99.8%."""
    items = list(rows)
    if not items:
        return "No data: no indicators."
    cats = [_category(r) for r in items]
    valued = [c for c in cats if c not in _UNMARKED]
    standards = {str(r.standard_id) for r in items}
    text = f"{_count(len(items), 'indicator')} across {_count(len(standards), 'standard')}"
    if not valued:
        return text + ": no data (no indicator has a value)" + _gaps_words(cats) + "."
    text += f"; {len(valued)} with a value."
    compared = [c for c in valued if c != "not-compared"]
    if compared:
        text += " Compared with national at 95%: " + _level_words(compared, strict=False) + "."
        text += " At 99.8%: " + _level_words(compared, strict=True) + "."
    not_compared = len(valued) - len(compared)
    if not_compared:
        text += f" {not_compared} not compared."
    gaps = _gaps_words(cats)
    return text + (f" {gaps[2:].capitalize()}." if gaps else "")


def _shown_value(row: SpineRow) -> float | None:
    """The provider's value if it may be shown: never a suppressed one."""
    return None if row.is_suppressed else _num(row.value)


def _category(row: SpineRow) -> str:
    """A key of _MARKS, or of _UNMARKED when there is no value to mark."""
    if row.is_suppressed:
        return "suppressed"
    if _shown_value(row) is None:
        return "no-data"
    strong = _direction(row.comparison_998, row)
    if strong in _SIGNIFICANT:
        return f"{strong}-998"
    weak = _direction(row.comparison_95, row)
    if weak in _SIGNIFICANT:
        return f"{weak}-95"
    if "similar" in (weak, strong):
        return "similar"
    return "not-compared"


def _direction(word: object, row: SpineRow) -> str | None:
    """'better'/'worse' (or 'higher'/'lower' when the indicator has no polarity), 'similar', or None."""
    said = str(word).strip().lower() if word is not None else ""
    if said == "similar":
        return "similar"
    if said not in _SIGNIFICANT:
        return None
    better_side = _POLARITY.get(str(row.polarity or ""))  # 'higher', 'lower' or None
    if better_side is None:  # no polarity: which side of national it lies, never better or worse
        if said in ("higher", "lower"):
            return said
        value, national = _shown_value(row), _num(row.national_value)
        if value is None or national is None or value == national:
            return None
        return "higher" if value > national else "lower"
    if said in ("better", "worse"):
        return said
    return "better" if said == better_side else "worse"


def _word(row: SpineRow) -> str:
    cat = _category(row)
    return _UNMARKED.get(cat) or _MARKS[cat].word


def _level_words(cats: list[str], *, strict: bool) -> str:
    """'2 better, 30 similar, 4 worse' at 95% (strict=False) or at 99.8% (strict=True)."""
    counts: dict[str, int] = {}
    for cat in cats:
        side, _, level = cat.partition("-")
        if side in _SIGNIFICANT and (level == "998" or not strict):
            counts[side] = counts.get(side, 0) + 1
        else:
            counts["similar"] = counts.get("similar", 0) + 1
    order = ("better", "similar", "worse", "higher", "lower")
    words = [f"{counts.get(k, 0)} {k}" for k in order[:3]]
    words += [f"{counts[k]} {k} (no polarity)" for k in order[3:] if counts.get(k)]
    return ", ".join(words)


def _gaps_words(cats: list[str]) -> str:
    suppressed, missing = cats.count("suppressed"), cats.count("no-data")
    parts = [f"{suppressed} suppressed"] if suppressed else []
    parts += [f"{missing} with no data"] if missing else []
    return ("; " + ", ".join(parts)) if parts else ""


def _natural(text: object) -> tuple:
    """'1.10' after '1.9', 'S10' after 'S9'."""
    # split() on a captured group alternates text, digits, text, ...: only the digit runs become numbers
    return tuple(int(p) if i % 2 else p for i, p in enumerate(_NATURAL.split(_clean(text))))


def _ordered(rows: Iterable[SpineRow]) -> list[SpineRow]:
    """By standard, then indicator id; ties (never expected) by every other field, so order never matters."""
    return sorted(rows, key=lambda r: (_natural(r.standard_id), _natural(r.indicator_id), repr(r)))


def _groups(rows: list[SpineRow]) -> list[tuple[str, list[SpineRow]]]:
    groups: list[tuple[str, list[SpineRow]]] = []
    for row in rows:
        key = _clean(row.standard_id)
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].append(row)
    return groups
