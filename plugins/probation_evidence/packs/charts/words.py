"""Numbers, dates and counts in words, for the charts and the pack's text alike: locale-free and stable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from probation_evidence.packs.charts.svg import _clean

_MINUS = "\u2212"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_POLARITY = {"up": "higher", "higher_is_better": "higher", "down": "lower", "lower_is_better": "lower"}


def signed(text: str, value: float) -> str:
    """A formatted number with a true minus sign when negative (and not shown as zero)."""
    return f"{_MINUS}{text}" if value < 0 and text.strip("0.,%") else text


def format_indicator_value(value: float | None, unit: str, *, missing: str, suffix: str) -> str:
    """An indicator value by its unit, for the charts and the pack's text alike: '%' values are
    proportions shown as percent to 1 dp, ratios to 2 dp, anything else to 1 dp followed by `suffix`;
    `missing` when there is no value."""
    if value is None:
        return missing
    if unit == "%":
        return signed(f"{abs(value) * 100:,.1f}%", value)
    if unit == "ratio":
        return signed(f"{abs(value):,.2f}", value)
    return signed(f"{abs(value):,.1f}", value) + suffix


def _format(value: float | None, unit: str, *, with_unit: bool = True) -> str:
    """A value in a chart: None is a suppressed value, never plotted."""
    suffix = f" {_clean(unit)}" if unit and with_unit else ""
    return format_indicator_value(value, unit, missing="suppressed", suffix=suffix)


def _tick_label(value: float, unit: str) -> str:
    shown = value * 100 if unit == "%" else value
    shown = 0.0 if abs(shown) < 1e-9 else shown
    text = f"{abs(shown):,.3f}".rstrip("0").rstrip(".")
    return signed(text, shown) + ("%" if unit == "%" else "")


def _polarity_words(polarity: str | None) -> str:
    side = _POLARITY.get(polarity or "")
    return f" {side.capitalize()} is better." if side else ""


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _month(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.year}"


def _date_formatter(dates: Sequence[date]) -> Callable[[date], str]:
    """'Sep 2026' when periods are a month or more apart, else ISO dates (weekly series)."""
    months = {(d.year, d.month) for d in dates}
    gaps = [(b - a).days for a, b in zip(dates, dates[1:], strict=False)]
    if len(months) < len(set(dates)) or any(g < 28 for g in gaps):
        return date.isoformat
    return _month


def _when(fmt_date: Callable[[date], str], day: date) -> str:
    """'in Sep 2026', or 'in the period to 2026-09-07' for ISO-labelled (weekly) series."""
    text = fmt_date(day)
    return f"in the period to {text}" if text == day.isoformat() else f"in {text}"
