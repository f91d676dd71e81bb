"""Hand-written, server-side SVG charts for the evidence pack.

Three charts, each about one indicator for one provider:

- `trend_chart`: the provider's value over periods, with its 95% interval and the national value.
- `comparison_chart`: the provider against the other providers, as a sorted dot plot ("caterpillar").
- `pdu_chart`: the provider's probation delivery units, each with its comparison with national.

Each returns `markupsafe.Markup`, so the pack's autoescaping Jinja templates embed it as markup; the
matching `*_summary` function returns the plain-English sentence that is also the chart's <desc>, for a
<figcaption> or alt text.

Why hand-written SVG: the pack is one self-contained HTML file that is read offline and printed to PDF by
headless Chromium, so charts must need no JavaScript and fetch nothing. Hand-written SVG renders 15 charts
in 0.02 s against 2 s for matplotlib, and it lets us guarantee what a library would not: byte-identical
output for the same input (no random ids, no clock, fixed float formatting), every data string escaped,
ids prefixed with the chart id so many charts share a page, and meaning carried by shape, dash pattern and
words as well as colour, so the charts survive greyscale printing and screen readers.

Conventions: values are in the indicator's unit as the marts store them, so '%' values are proportions
(0.124 is shown as 12.4%), as in `render.format_value`. None (or NaN) means suppressed or missing: it is
never plotted, least of all as zero, and is labelled "suppressed". A 95% interval is drawn only when both
limits are given. Sequences of plain tuples are accepted wherever the NamedTuples below are named.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from markupsafe import Markup, escape

__all__ = [
    "NationalPoint",
    "PduRow",
    "ProviderValue",
    "TrendPoint",
    "comparison_chart",
    "comparison_summary",
    "format_indicator_value",
    "pdu_chart",
    "pdu_summary",
    "signed",
    "trend_chart",
    "trend_summary",
]


class TrendPoint(NamedTuple):
    """One period of the provider's series; value None when suppressed."""

    period_end: date
    value: float | None
    lower_95: float | None = None
    upper_95: float | None = None


class NationalPoint(NamedTuple):
    """One period of the national series."""

    period_end: date
    value: float | None


class ProviderValue(NamedTuple):
    """One provider in the comparison; `is_focus` marks the provider the pack is about."""

    label: str
    value: float | None
    lower_95: float | None = None
    upper_95: float | None = None
    is_focus: bool = False


class PduRow(NamedTuple):
    """One PDU; comparison is 'better', 'similar', 'worse' or 'not compared' (anything else: not compared)."""

    name: str
    value: float | None
    lower_95: float | None = None
    upper_95: float | None = None
    comparison: str | None = "not compared"


# ---------------------------------------------------------------------------------------------------
# Look and layout. Colours are dark enough for text contrast on white; shapes and dashes carry meaning.
# ---------------------------------------------------------------------------------------------------

WIDTH = 640
INK = "#0b0c0c"
MUTED = "#505a5f"
GRID = "#d8dadb"
PROVIDER = "#1d4f91"
BAND = "#c6d6ea"
OTHER = "#6f777b"
FOCUS_BAND = "#eef2f7"
NATIONAL_DASH = "6 4"

_COMPARISON_STYLE: dict[str, tuple[str, str]] = {
    "better": ("up", "#1d70b8"),
    "similar": ("circle", MUTED),
    "worse": ("down", "#b10e1e"),
    "not compared": ("hollow", MUTED),
}
_COMPARISON_WORDS = {
    "better": "Better than national",
    "worse": "Worse than national",
    "similar": "Similar to national",
    "not compared": "Not compared with national",
}

# Trend chart plot area.
_T_HEIGHT = 232
_T_LEFT, _T_RIGHT, _T_TOP, _T_BOTTOM = 64.0, 616.0, 50.0, 196.0
# Row charts (comparison and PDU): label column, plot, value column, comparison column.
_R_TOP, _R_ROW = 60.0, 20.0
_R_LEFT, _R_RIGHT = 200.0, 468.0
_VALUE_X, _CMP_X = 478.0, 548.0

_CHART_ID = re.compile(r"[A-Za-z0-9_-]+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MINUS = "\u2212"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_POLARITY = {"up": "higher", "higher_is_better": "higher", "down": "lower", "lower_is_better": "lower"}


# ---------------------------------------------------------------------------------------------------
# Public charts
# ---------------------------------------------------------------------------------------------------


def trend_chart(
    chart_id: str,
    title: str,
    unit: str,
    points: Iterable[TrendPoint | tuple],
    national: Iterable[NationalPoint | tuple] | None = None,
    *,
    provider_label: str | None = None,
) -> Markup:
    """Line chart of the provider over periods: markers, 95% band (or whisker), dashed national line.

    points: (period_end: date, value | None, lower_95 | None, upper_95 | None); national: (date, value | None).
    Suppressed periods break the line and are marked "suppressed". `provider_label` names the line.
    """
    cid = _check_id(chart_id)
    pts, nat = _trend_points(points), _national_points(national)
    desc = trend_summary(title, unit, pts, nat, provider_label=provider_label)
    if not any(p.value is not None for p in pts):
        return _no_data(cid, "trend", title, desc, suppressed=bool(pts))
    dates = sorted({p.period_end for p in pts} | {n.period_end for n in nat})
    fmt_date = _date_formatter(dates)
    xs = _date_positions(dates)
    ys = _scale(_trend_extent(pts, nat), _T_BOTTOM, _T_TOP)
    body = [
        *_heading(title),
        *_trend_legend(pts, nat, provider_label),
        *_y_axis(ys, unit),
        *_x_axis(dates, xs, fmt_date),
        *_trend_bands(pts, xs, ys),
        *_national_trend(nat, xs, ys, unit, fmt_date),
        *_provider_trend(pts, xs, ys, unit, fmt_date),
        *_suppressed_periods(pts, xs),
    ]
    return _svg(cid, "trend", title, desc, _T_HEIGHT, body)


def comparison_chart(
    chart_id: str,
    title: str,
    unit: str,
    provider_id: str,
    values: Iterable[ProviderValue | tuple],
    national: float | None = None,
    *,
    period: date | None = None,
    polarity: str | None = None,
) -> Markup:
    """Sorted dot plot of every provider with 95% whiskers; the focus provider is a labelled diamond.

    values: (label, value | None, lower_95 | None, upper_95 | None, is_focus: bool). When no row has
    is_focus, a row whose label is `provider_id` or starts with "provider_id " is the focus. Rows are
    sorted best first when `polarity` is known ('up'/'higher_is_better', 'down'/'lower_is_better'),
    otherwise highest first; suppressed rows go last.
    """
    cid = _check_id(chart_id)
    rows = _sort_providers(_provider_rows(values, provider_id), polarity)
    nat = _num(national)
    desc = comparison_summary(title, unit, provider_id, rows, nat, period=period, polarity=polarity)
    if not any(r.value is not None for r in rows):
        return _no_data(cid, "comparison", title, desc, suppressed=bool(rows))
    scale = _scale(_row_extent(rows, nat), _R_LEFT, _R_RIGHT)
    focus = next((r for r in rows if r.is_focus), None)
    body = [*_heading(title), *_comparison_legend(focus, nat)]
    body += _row_frame(scale, unit, len(rows), nat)
    for i, row in enumerate(rows):
        body += _provider_row(row, _row_y(i), scale, unit)
    return _svg(cid, "comparison", title, desc, _row_height(len(rows)), body)


def pdu_chart(
    chart_id: str,
    title: str,
    unit: str,
    rows: Iterable[PduRow | tuple],
    national: float | None = None,
) -> Markup:
    """One row per PDU, in the order given: value with 95% whiskers, shape and word for its comparison.

    rows: (pdu_name, value | None, lower_95 | None, upper_95 | None, comparison). Shapes: ▲ better,
    ● similar, ▼ worse, ○ not compared; the word is always written beside the shape.
    """
    cid = _check_id(chart_id)
    items = _pdu_rows(rows)
    nat = _num(national)
    desc = pdu_summary(title, unit, items, nat)
    if not any(r.value is not None for r in items):
        return _no_data(cid, "pdu", title, desc, suppressed=bool(items))
    scale = _scale(_row_extent(items, nat), _R_LEFT, _R_RIGHT)
    body = [*_heading(title), *_pdu_legend(nat)]
    body += _row_frame(scale, unit, len(items), nat)
    for i, row in enumerate(items):
        body += _pdu_row(row, _row_y(i), scale, unit)
    return _svg(cid, "pdu", title, desc, _row_height(len(items)), body)


# ---------------------------------------------------------------------------------------------------
# Summaries: the <desc> of each chart, also for a figcaption. Same arguments as the chart, minus the id;
# the title is not repeated in the sentence, because aria-labelledby reads the <title> first anyway.
# ---------------------------------------------------------------------------------------------------


def trend_summary(
    title: str,
    unit: str,
    points: Iterable[TrendPoint | tuple],
    national: Iterable[NationalPoint | tuple] | None = None,
    *,
    provider_label: str | None = None,
) -> str:
    """E.g. 'N07 North West: 12.4% in Sep 2026 (95% interval 10.1% to 14.9%), national 9.8%. Up from ...'."""
    pts, nat = _trend_points(points), _national_points(national)
    who = _clean(provider_label) if provider_label else "Provider"
    valued = [p for p in pts if p.value is not None]
    if not valued:
        return f"{who}: no data" + (f"; {_count(len(pts), 'period')}, all suppressed." if pts else ".")
    fmt_date = _date_formatter(sorted({p.period_end for p in pts} | {n.period_end for n in nat}))
    last = valued[-1]
    text = f"{who}: {_format(last.value, unit)} {_when(fmt_date, last.period_end)}{_interval_words(last, unit)}"
    national_then = next((n.value for n in nat if n.period_end == last.period_end), None)
    if national_then is not None:
        text += f", national {_format(national_then, unit)}"
    text += "."
    if len(valued) > 1:
        text += " " + _change_words(valued[0], last, unit, fmt_date)
    suppressed = [fmt_date(p.period_end) for p in pts if p.value is None]
    if suppressed:
        text += f" Suppressed (small numbers): {', '.join(suppressed)}."
    return text


def comparison_summary(
    title: str,
    unit: str,
    provider_id: str,
    values: Iterable[ProviderValue | tuple],
    national: float | None = None,
    *,
    period: date | None = None,
    polarity: str | None = None,
) -> str:
    """E.g. 'N07 North West: 12.4% in Sep 2026, national 9.8%; higher than 10 of 11 other providers.'."""
    rows = _provider_rows(values, provider_id)
    nat = _num(national)
    when = f" in {_month(period)}" if period else ""
    national_words = f", national {_format(nat, unit)}" if nat is not None else ""
    valued = [r for r in rows if r.value is not None]
    if not valued:
        return f"No data: no provider has a value{when}."
    focus = next((r for r in rows if r.is_focus), None)
    if focus is None:
        low, high = min(valued, key=lambda r: r.value), max(valued, key=lambda r: r.value)
        return (
            f"{len(valued)} providers{when}, from {_format(low.value, unit)} ({_clean(low.label)}) "
            f"to {_format(high.value, unit)} ({_clean(high.label)}){national_words}.{_polarity_words(polarity)}"
        )
    others = [r for r in rows if r is not focus]
    head = f"{_clean(focus.label)}: "
    if focus.value is None:
        head += (
            f"suppressed{when}{national_words}; {sum(r.value is not None for r in others)} other providers have a value"
        )
    else:
        head += f"{_format(focus.value, unit)}{when}{national_words}; {_rank_words(focus.value, others)}"
    return f"{head}.{_polarity_words(polarity)}"


def pdu_summary(
    title: str,
    unit: str,
    rows: Iterable[PduRow | tuple],
    national: float | None = None,
) -> str:
    """E.g. '3 PDUs, national 9.8%. Worse than national: Bolton 15.0%. Similar to national: Wigan 9.0%. ...'."""
    items = _pdu_rows(rows)
    nat = _num(national)
    if not any(r.value is not None for r in items):
        return "No data" + (f": {_count(len(items), 'PDU')}, all suppressed." if items else ": no PDUs.")
    parts = [_count(len(items), "PDU") + (f", national {_format(nat, unit)}" if nat is not None else "") + "."]
    for word in ("better", "worse", "similar", "not compared"):
        named = [
            f"{_clean(r.label)} {_format(r.value, unit)}" for r in items if r.value is not None and r.comparison == word
        ]
        if named:
            parts.append(f"{_COMPARISON_WORDS[word]}: {', '.join(named)}.")
    suppressed = [_clean(r.label) for r in items if r.value is None]
    if suppressed:
        parts.append(f"Suppressed (small numbers): {', '.join(suppressed)}.")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------------


def _check_id(chart_id: str) -> str:
    if not isinstance(chart_id, str) or not _CHART_ID.fullmatch(chart_id):
        raise ValueError(f"chart_id must be letters, digits, '-' or '_' only: {chart_id!r}")
    return chart_id


def _num(value: object) -> float | None:
    """A finite float, or None for None/NaN/infinity (treated as suppressed). Non-numbers raise."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _interval(lower: object, upper: object) -> tuple[float, float] | None:
    low, high = _num(lower), _num(upper)
    if low is None or high is None:
        return None
    return (min(low, high), max(low, high))


@dataclass(frozen=True)
class _Row:
    label: str
    value: float | None
    ci: tuple[float, float] | None
    is_focus: bool = False
    comparison: str = "not compared"


def _trend_points(points: Iterable[TrendPoint | tuple]) -> list[TrendPoint]:
    clean = [TrendPoint(*p) for p in points]
    clean = [TrendPoint(p.period_end, _num(p.value), _num(p.lower_95), _num(p.upper_95)) for p in clean]
    return sorted(clean, key=lambda p: p.period_end)


def _national_points(points: Iterable[NationalPoint | tuple] | None) -> list[NationalPoint]:
    clean = [NationalPoint(*p) for p in points or ()]
    return sorted((NationalPoint(p.period_end, _num(p.value)) for p in clean), key=lambda p: p.period_end)


def _provider_rows(values: Iterable[ProviderValue | tuple], provider_id: str) -> list[_Row]:
    items = list(values)
    if items and all(isinstance(v, _Row) for v in items):  # already normalised by the chart
        return items
    raw = [ProviderValue(*v) for v in items]
    flagged = any(bool(v.is_focus) for v in raw)
    prefix = f"{provider_id} "

    def is_focus(v: ProviderValue) -> bool:
        if flagged:
            return bool(v.is_focus)
        return bool(provider_id) and (str(v.label) == provider_id or str(v.label).startswith(prefix))

    return [_Row(str(v.label), _num(v.value), _interval(v.lower_95, v.upper_95), is_focus(v)) for v in raw]


def _pdu_rows(rows: Iterable[PduRow | tuple]) -> list[_Row]:
    items = list(rows)
    if items and all(isinstance(r, _Row) for r in items):  # already normalised by the chart
        return items
    raw = [PduRow(*r) for r in items]
    return [
        _Row(str(r.name), _num(r.value), _interval(r.lower_95, r.upper_95), comparison=_comparison(r.comparison))
        for r in raw
    ]


def _comparison(word: object) -> str:
    text = str(word).strip().lower() if word is not None else ""
    return text if text in _COMPARISON_STYLE else "not compared"


def _sort_providers(rows: list[_Row], polarity: str | None) -> list[_Row]:
    """Best first when the polarity says which way is better, else highest first; suppressed last."""
    sign = 1.0 if _POLARITY.get(polarity or "") == "lower" else -1.0
    valued = sorted((r for r in rows if r.value is not None), key=lambda r: (sign * r.value, r.label))
    return valued + sorted((r for r in rows if r.value is None), key=lambda r: r.label)


# ---------------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------------


def _clean(text: object) -> str:
    """Data text without characters XML cannot hold (escaping is done where text is written)."""
    return _CONTROL.sub(" ", str(text))


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


def _interval_words(point: TrendPoint, unit: str) -> str:
    ci = _interval(point.lower_95, point.upper_95)
    if ci is None:
        return ""
    return f" (95% interval {_format(ci[0], unit, with_unit=unit == '%')} to {_format(ci[1], unit)})"


def _change_words(first: TrendPoint, last: TrendPoint, unit: str, fmt_date: Callable[[date], str]) -> str:
    before, now = _format(first.value, unit), _format(last.value, unit)
    if before == now:
        direction = "Unchanged from"
    else:
        direction = "Up from" if (last.value or 0.0) > (first.value or 0.0) else "Down from"
    return f"{direction} {before} {_when(fmt_date, first.period_end)}."


def _rank_words(value: float, others: list[_Row]) -> str:
    compared = [r.value for r in others if r.value is not None]
    suppressed = len(others) - len(compared)
    note = f" ({suppressed} suppressed)" if suppressed else ""
    total = len(compared)
    if not total:
        return f"no other provider has a value{note}"
    higher = sum(v < value for v in compared)
    lower = sum(v > value for v in compared)
    equal = total - higher - lower
    if equal == total:
        return f"equal to {'the' if total == 1 else 'all'} {_count(total, 'other provider')}{note}"
    tie = f", equal to {equal}" if equal else ""
    if higher >= lower:
        return f"higher than {higher} of {_count(total, 'other provider')}{tie}{note}"
    return f"lower than {lower} of {_count(total, 'other provider')}{tie}{note}"


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


def _fit(text: str, limit: int) -> str:
    text = _clean(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


# ---------------------------------------------------------------------------------------------------
# Scales
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scale:
    """Maps lo..hi (in data units) to a..b (in SVG units); `step` is the tick spacing."""

    lo: float
    hi: float
    step: float
    a: float
    b: float

    def __call__(self, value: float) -> float:
        return self.a + (value - self.lo) / (self.hi - self.lo) * (self.b - self.a)

    def ticks(self) -> list[float]:
        count = round((self.hi - self.lo) / self.step)
        return [round(self.lo + i * self.step, 10) for i in range(count + 1)]


def _nice_step(span: float) -> float:
    """A 1/2/2.5/5 x 10^k step giving about four intervals across the span."""
    raw = span / 4 if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if raw <= m * power * (1 + 1e-9))


def _domain(values: Sequence[float]) -> tuple[float, float]:
    """Data range, widened when flat, and anchored at zero when zero is near anyway."""
    low, high = min(values), max(values)
    if high == low:
        pad = abs(low) * 0.5 or 1.0
        low, high = low - pad, high + pad
    if 0 < low <= high / 2:
        low = 0.0
    elif low / 2 <= high < 0:
        high = 0.0
    return low, high


def _scale(values: Sequence[float], a: float, b: float) -> _Scale:
    low, high = _domain(values)
    step = _nice_step(high - low)
    low = math.floor(low / step + 1e-9) * step
    high = math.ceil(high / step - 1e-9) * step
    if high <= low:
        high = low + step
    return _Scale(low, high, step, a, b)


def _trend_extent(points: list[TrendPoint], national: list[NationalPoint]) -> list[float]:
    values = [v for p in points if p.value is not None for v in (p.value, *(_interval(p.lower_95, p.upper_95) or ()))]
    return values + [n.value for n in national if n.value is not None]


def _row_extent(rows: list[_Row], national: float | None) -> list[float]:
    values = [v for r in rows if r.value is not None for v in (r.value, *(r.ci or ()))]
    return values + ([national] if national is not None else [])


def _date_positions(dates: list[date]) -> dict[date, float]:
    if len(dates) == 1:
        return {dates[0]: (_T_LEFT + _T_RIGHT) / 2}
    first, span = dates[0].toordinal(), dates[-1].toordinal() - dates[0].toordinal()
    left, width = _T_LEFT + 14, _T_RIGHT - _T_LEFT - 28
    return {d: left + (d.toordinal() - first) / span * width for d in dates}


# ---------------------------------------------------------------------------------------------------
# SVG writing
# ---------------------------------------------------------------------------------------------------


def _n(value: float) -> str:
    """Stable coordinate text: at most 2 dp, no trailing zeros, never '-0'."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attr(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _n(float(value))
    return str(escape(_clean(value)))


def _el(tag: str, attrs: dict[str, object], text: str | None = None, *, tip: str | None = None) -> str:
    """One element; attribute values and text are escaped here, so callers pass raw data."""
    head = "".join(f' {key}="{_attr(value)}"' for key, value in attrs.items() if value is not None)
    inner = str(escape(_clean(text))) if text is not None else ""
    if tip is not None:
        inner += f"<title>{escape(_clean(tip))}</title>"
    return f"<{tag}{head}>{inner}</{tag}>" if inner else f"<{tag}{head}/>"


def _text(x: float, y: float, text: str, cls: str, **style: object) -> str:
    attrs: dict[str, object] = {"class": cls, "x": x, "y": y, "fill": style.pop("fill", INK)}
    attrs.update({key.replace("_", "-"): value for key, value in style.items()})
    return _el("text", attrs, text)


def _line(x1: float, y1: float, x2: float, y2: float, cls: str, stroke: str, **style: object) -> str:
    attrs: dict[str, object] = {"class": cls, "x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": stroke}
    attrs.update({key.replace("_", "-"): value for key, value in style.items()})
    return _el("line", attrs)


def _shape(kind: str, x: float, y: float, size: float, cls: str, colour: str, tip: str | None = None) -> str:
    """A marker: circle, hollow circle, diamond, triangle up or down, or square; centred on (x, y)."""
    if kind in ("circle", "hollow"):
        fill = "#ffffff" if kind == "hollow" else colour
        attrs = {"class": cls, "cx": x, "cy": y, "r": size, "fill": fill, "stroke": colour, "stroke-width": 1.5}
        return _el("circle", attrs, tip=tip)
    if kind == "square":
        attrs = {"class": cls, "x": x - size, "y": y - size, "width": 2 * size, "height": 2 * size}
        return _el("rect", {**attrs, "fill": "#ffffff", "stroke": colour, "stroke-width": 1.5}, tip=tip)
    corners = {
        "diamond": ((0, -1.3), (1.3, 0), (0, 1.3), (-1.3, 0)),
        "up": ((0, -1.2), (1.1, 0.9), (-1.1, 0.9)),
        "down": ((0, 1.2), (1.1, -0.9), (-1.1, -0.9)),
    }[kind]
    path = "M" + " L".join(f"{_n(x + dx * size)} {_n(y + dy * size)}" for dx, dy in corners) + " Z"
    return _el("path", {"class": cls, "d": path, "fill": colour, "stroke": "#ffffff", "stroke-width": 1}, tip=tip)


def _svg(cid: str, kind: str, title: str, desc: str, height: float, body: list[str]) -> Markup:
    root = {
        "xmlns": "http://www.w3.org/2000/svg",
        "class": f"chart chart-{kind}",
        "role": "img",
        "aria-labelledby": f"{cid}-title {cid}-desc",
        "viewBox": f"0 0 {WIDTH} {_n(height)}",
        "width": "100%",
        "font-family": "sans-serif",
        "font-size": 11,
    }
    head = "".join(f' {key}="{_attr(value)}"' for key, value in root.items())
    lines = [
        f"<svg{head}>",
        _el("title", {"id": f"{cid}-title"}, _clean(title)),
        _el("desc", {"id": f"{cid}-desc"}, desc),
        _el("rect", {"class": "chart-background", "x": 0, "y": 0, "width": WIDTH, "height": height, "fill": "#ffffff"}),
        *body,
        "</svg>",
    ]
    # Safe: every data string reached `lines` through `_el`/`_attr`, which escape it.
    return Markup("\n".join(lines))  # noqa: S704


def _heading(title: str) -> list[str]:
    return [_text(8, 18, _fit(title, 84), "chart-heading", font_size=13, font_weight="bold")]


def _no_data(cid: str, kind: str, title: str, desc: str, *, suppressed: bool) -> Markup:
    note = "No data (all values suppressed)" if suppressed else "No data"
    body = [
        *_heading(title),
        _text(WIDTH / 2, 64, note, "chart-no-data", fill=MUTED, text_anchor="middle", font_size=14),
    ]
    return _svg(cid, f"{kind} chart-empty", title, desc, 100, body)


def _legend(entries: list[tuple[Callable[[float, float], list[str]], str]], x: float, y: float) -> list[str]:
    """Symbols (drawn in a 20-wide slot) each followed by words, left to right."""
    out: list[str] = []
    for draw, label in entries:
        out += draw(x, y)
        out.append(_text(x + 24, y + 4, label, "chart-legend", fill=MUTED))
        x += 24 + len(label) * 6 + 16
    return out


def _national_symbol(x: float, y: float) -> list[str]:
    return [_line(x, y, x + 20, y, "chart-national", MUTED, stroke_width=1.5, stroke_dasharray=NATIONAL_DASH)]


def _whisker_symbol(x: float, y: float) -> list[str]:
    return _whisker(x + 2, x + 18, y, "chart-ci", OTHER)


def _whisker(x1: float, x2: float, y: float, cls: str, colour: str) -> list[str]:
    return [
        _line(x1, y, x2, y, cls, colour, stroke_width=1.2),
        _line(x1, y - 4, x1, y + 4, cls, colour, stroke_width=1.2),
        _line(x2, y - 4, x2, y + 4, cls, colour, stroke_width=1.2),
    ]


# ---------------------------------------------------------------------------------------------------
# Trend chart parts
# ---------------------------------------------------------------------------------------------------


def _trend_legend(points: list[TrendPoint], national: list[NationalPoint], label: str | None) -> list[str]:
    def provider(x: float, y: float) -> list[str]:
        return [
            _line(x, y, x + 20, y, "chart-provider", PROVIDER, stroke_width=2),
            _shape("circle", x + 10, y, 3.5, "chart-provider", PROVIDER),
        ]

    def band(x: float, y: float) -> list[str]:
        return [_el("rect", {"class": "chart-ci", "x": x, "y": y - 5, "width": 20, "height": 10, "fill": BAND})]

    entries = [(provider, _fit(label or "Provider", 32))]
    if any(n.value is not None for n in national):
        entries.append((_national_symbol, "National"))
    if any(p.value is not None and _interval(p.lower_95, p.upper_95) for p in points):
        entries.append((band, "95% interval"))
    return _legend(entries, _T_LEFT, 34)


def _y_axis(ys: _Scale, unit: str) -> list[str]:
    out = []
    for tick in ys.ticks():
        y = ys(tick)
        out.append(_line(_T_LEFT, y, _T_RIGHT, y, "chart-grid", GRID, stroke_width=1))
        out.append(_text(_T_LEFT - 6, y + 4, _tick_label(tick, unit), "chart-tick", fill=MUTED, text_anchor="end"))
    if ys.lo < 0 < ys.hi:
        out.append(_line(_T_LEFT, ys(0), _T_RIGHT, ys(0), "chart-zero", MUTED, stroke_width=1))
    if unit and unit != "%":  # '%' is on every tick already
        mid = (_T_TOP + _T_BOTTOM) / 2
        out.append(
            _text(
                14,
                mid,
                _fit(unit, 24),
                "chart-unit",
                fill=MUTED,
                text_anchor="middle",
                transform=f"rotate(-90 14 {_n(mid)})",
            )
        )
    return out


def _x_axis(dates: list[date], xs: dict[date, float], fmt_date: Callable[[date], str]) -> list[str]:
    out = [_line(_T_LEFT, _T_BOTTOM, _T_RIGHT, _T_BOTTOM, "chart-axis", MUTED, stroke_width=1)]
    width = max(len(fmt_date(d)) for d in dates) * 6 + 12
    every = math.ceil(len(dates) / max(1, int((_T_RIGHT - _T_LEFT) // width)))
    for i, day in enumerate(dates):
        out.append(_line(xs[day], _T_BOTTOM, xs[day], _T_BOTTOM + 4, "chart-axis", MUTED, stroke_width=1))
        if (len(dates) - 1 - i) % every == 0:
            out.append(_text(xs[day], _T_BOTTOM + 17, fmt_date(day), "chart-tick", fill=MUTED, text_anchor="middle"))
    return out


def _runs(items: Sequence[TrendPoint | NationalPoint], keep: Callable[[object], bool]) -> list[list]:
    """Consecutive stretches of items that pass `keep`; a failing item breaks the stretch."""
    runs: list[list] = [[]]
    for item in items:
        if keep(item):
            runs[-1].append(item)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _polyline(coords: list[tuple[float, float]], cls: str, colour: str, **style: object) -> str:
    attrs: dict[str, object] = {"class": cls, "points": " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)}
    attrs.update({"fill": "none", "stroke": colour, "stroke-linejoin": "round"})
    attrs.update({key.replace("_", "-"): value for key, value in style.items()})
    return _el("polyline", attrs)


def _trend_bands(points: list[TrendPoint], xs: dict[date, float], ys: _Scale) -> list[str]:
    out = []
    for run in _runs(points, lambda p: p.value is not None and _interval(p.lower_95, p.upper_95) is not None):
        cis = [_interval(p.lower_95, p.upper_95) for p in run]
        if len(run) == 1:
            out += _whisker_vertical(xs[run[0].period_end], ys(cis[0][0]), ys(cis[0][1]))
            continue
        upper = [f"{_n(xs[p.period_end])},{_n(ys(ci[1]))}" for p, ci in zip(run, cis, strict=True)]
        lower = [f"{_n(xs[p.period_end])},{_n(ys(ci[0]))}" for p, ci in zip(run, cis, strict=True)]
        out.append(_el("polygon", {"class": "chart-ci", "points": " ".join(upper + lower[::-1]), "fill": BAND}))
    return out


def _whisker_vertical(x: float, y1: float, y2: float) -> list[str]:
    return [
        _line(x, y1, x, y2, "chart-ci", PROVIDER, stroke_width=1.2),
        _line(x - 4, y1, x + 4, y1, "chart-ci", PROVIDER, stroke_width=1.2),
        _line(x - 4, y2, x + 4, y2, "chart-ci", PROVIDER, stroke_width=1.2),
    ]


def _national_trend(
    national: list[NationalPoint], xs: dict[date, float], ys: _Scale, unit: str, fmt_date: Callable[[date], str]
) -> list[str]:
    out = []
    for run in _runs(national, lambda n: n.value is not None):
        if len(run) > 1:
            coords = [(xs[n.period_end], ys(n.value)) for n in run]
            out.append(_polyline(coords, "chart-national", MUTED, stroke_width=1.5, stroke_dasharray=NATIONAL_DASH))
            continue
        only = run[0]
        tip = f"National, {fmt_date(only.period_end)}: {_format(only.value, unit)}"
        out.append(_shape("square", xs[only.period_end], ys(only.value), 3, "chart-national-point", MUTED, tip))
    return out


def _provider_trend(
    points: list[TrendPoint], xs: dict[date, float], ys: _Scale, unit: str, fmt_date: Callable[[date], str]
) -> list[str]:
    out = []
    for run in _runs(points, lambda p: p.value is not None):
        if len(run) > 1:
            coords = [(xs[p.period_end], ys(p.value)) for p in run]
            out.append(_polyline(coords, "chart-line chart-provider", PROVIDER, stroke_width=2))
    for point in points:
        if point.value is not None:
            tip = f"{fmt_date(point.period_end)}: {_format(point.value, unit)}{_interval_words(point, unit)}"
            x, y = xs[point.period_end], ys(point.value)
            out.append(_shape("circle", x, y, 3.5, "chart-point chart-provider", PROVIDER, tip))
    return out


def _suppressed_periods(points: list[TrendPoint], xs: dict[date, float]) -> list[str]:
    out = []
    for point in points:
        if point.value is None:
            x, y = xs[point.period_end], _T_BOTTOM - 4
            out.append(
                _line(x, _T_TOP, x, _T_BOTTOM, "chart-suppressed", OTHER, stroke_width=1, stroke_dasharray="1 3")
            )
            transform = f"rotate(-90 {_n(x + 3)} {_n(y)})"
            out.append(_text(x + 3, y, "suppressed", "chart-suppressed", fill=MUTED, font_size=9, transform=transform))
    return out


# ---------------------------------------------------------------------------------------------------
# Row chart parts (comparison and PDU)
# ---------------------------------------------------------------------------------------------------


def _row_y(index: int) -> float:
    return _R_TOP + index * _R_ROW + _R_ROW / 2


def _axis_y(count: int) -> float:
    return _R_TOP + count * _R_ROW + 4


def _row_height(count: int) -> float:
    return _axis_y(count) + 36


def _row_frame(scale: _Scale, unit: str, count: int, national: float | None) -> list[str]:
    """Grid, x axis with ticks, unit caption and the labelled national reference line."""
    bottom = _axis_y(count)
    out = [_line(_R_LEFT, bottom, _R_RIGHT, bottom, "chart-axis", MUTED, stroke_width=1)]
    for tick in scale.ticks():
        x = scale(tick)
        out.append(_line(x, _R_TOP, x, bottom, "chart-grid", GRID, stroke_width=1))
        out.append(_text(x, bottom + 14, _tick_label(tick, unit), "chart-tick", fill=MUTED, text_anchor="middle"))
    if scale.lo < 0 < scale.hi:
        out.append(_line(scale(0), _R_TOP, scale(0), bottom, "chart-zero", MUTED, stroke_width=1))
    if unit and unit != "%":  # '%' is on every tick already
        out.append(
            _text((_R_LEFT + _R_RIGHT) / 2, bottom + 28, _fit(unit, 40), "chart-unit", fill=MUTED, text_anchor="middle")
        )
    if national is not None:
        x = scale(national)
        dash = {"stroke_width": 1.5, "stroke_dasharray": NATIONAL_DASH}
        out.append(_line(x, _R_TOP - 4, x, bottom, "chart-national", MUTED, **dash))
        label_x = min(max(x, _R_LEFT + 40), _R_RIGHT - 40)
        label = f"National {_format(national, unit, with_unit=False)}"
        out.append(_text(label_x, _R_TOP - 7, label, "chart-national-label", text_anchor="middle", font_size=10))
    return out


def _value_text(row: _Row, y: float, unit: str, *, bold: bool = False) -> str:
    text = _format(row.value, unit, with_unit=False)
    style: dict[str, object] = {"font_weight": "bold" if bold else None}
    if row.value is None:
        style.update(font_style="italic", fill=MUTED)
    return _text(_VALUE_X, y + 4, text, "chart-value", **style)


def _suppressed_row(y: float) -> str:
    return _text(_R_LEFT + 6, y + 4, "suppressed", "chart-suppressed", fill=MUTED, font_style="italic")


def _provider_row(row: _Row, y: float, scale: _Scale, unit: str) -> list[str]:
    out = []
    if row.is_focus:
        band = {"class": "chart-focus-band", "x": 4, "y": y - _R_ROW / 2, "width": WIDTH - 8, "height": _R_ROW}
        out.append(_el("rect", {**band, "fill": FOCUS_BAND}))
    cls = "chart-label chart-focus-label" if row.is_focus else "chart-label"
    out.append(_text(8, y + 4, _fit(row.label, 30), cls, font_weight="bold" if row.is_focus else None))
    out.append(_value_text(row, y, unit, bold=row.is_focus))
    if row.value is None:
        return [*out, _suppressed_row(y)]
    colour = PROVIDER if row.is_focus else OTHER
    if row.ci:
        out += _whisker(scale(row.ci[0]), scale(row.ci[1]), y, "chart-ci", colour)
    tip = f"{_clean(row.label)}: {_format(row.value, unit)}"
    if row.is_focus:
        return [*out, _shape("diamond", scale(row.value), y, 5.5, "chart-point chart-focus", colour, tip)]
    return [*out, _shape("circle", scale(row.value), y, 4, "chart-point chart-other", colour, tip)]


def _pdu_row(row: _Row, y: float, scale: _Scale, unit: str) -> list[str]:
    kind, colour = _COMPARISON_STYLE[row.comparison]
    cls = f"chart-{row.comparison.replace(' ', '-')}"
    out = [_text(8, y + 4, _fit(row.label, 30), "chart-label"), _value_text(row, y, unit)]
    out.append(_shape(kind, _CMP_X, y, 4.5, f"chart-comparison {cls}", colour))
    out.append(_text(_CMP_X + 9, y + 4, row.comparison, f"chart-comparison-word {cls}"))
    if row.value is None:
        return [*out, _suppressed_row(y)]
    if row.ci:
        out += _whisker(scale(row.ci[0]), scale(row.ci[1]), y, "chart-ci", colour)
    tip = f"{_clean(row.label)}: {_format(row.value, unit)}, {row.comparison}"
    return [*out, _shape(kind, scale(row.value), y, 5, f"chart-point {cls}", colour, tip)]


def _comparison_legend(focus: _Row | None, national: float | None) -> list[str]:
    def diamond(x: float, y: float) -> list[str]:
        return [_shape("diamond", x + 10, y, 5, "chart-focus", PROVIDER)]

    def dot(x: float, y: float) -> list[str]:
        return [_shape("circle", x + 10, y, 4, "chart-other", OTHER)]

    entries = [(diamond, f"{_fit(focus.label, 30)} (this provider)")] if focus else []
    entries += [(dot, "Other providers"), (_whisker_symbol, "95% interval")]
    if national is not None:
        entries.append((_national_symbol, "National"))
    return _legend(entries, 8, 34)


def _pdu_legend(national: float | None) -> list[str]:
    entries = [(_whisker_symbol, "95% interval")]
    if national is not None:
        entries.append((_national_symbol, "National"))
    heading = _text(WIDTH - 4, _R_TOP - 7, "Compared with national", "chart-legend", fill=MUTED, text_anchor="end")
    return [*_legend(entries, 8, 34), heading]
