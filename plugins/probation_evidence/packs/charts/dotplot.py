"""Row charts, one row per unit: every provider in a period (a sorted dot plot), and the provider's PDUs.

`comparison_chart` puts the provider among all the others, highlighted; `pdu_chart` shows each PDU with
its comparison with national, by shape and word. The `*_summary` functions are their <desc>.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from markupsafe import Markup

from probation_evidence.packs.charts.scales import _Scale, _scale
from probation_evidence.packs.charts.svg import (
    FOCUS_BAND,
    GRID,
    MUTED,
    NATIONAL_DASH,
    OTHER,
    PROVIDER,
    WIDTH,
    _check_id,
    _clean,
    _el,
    _fit,
    _heading,
    _interval,
    _legend,
    _line,
    _national_symbol,
    _no_data,
    _num,
    _shape,
    _svg,
    _text,
    _valued,
    _whisker,
    _whisker_symbol,
)
from probation_evidence.packs.charts.words import _POLARITY, _count, _format, _month, _polarity_words, _tick_label


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
# Layout: label column, plot, value column, comparison column.
_R_TOP, _R_ROW = 60.0, 20.0
_R_LEFT, _R_RIGHT = 200.0, 468.0
_VALUE_X, _CMP_X = 478.0, 548.0


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
    desc = _comparison_words(rows, unit, nat, period, polarity)
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
    desc = _pdu_words(items, unit, nat)
    if not any(r.value is not None for r in items):
        return _no_data(cid, "pdu", title, desc, suppressed=bool(items))
    scale = _scale(_row_extent(items, nat), _R_LEFT, _R_RIGHT)
    body = [*_heading(title), *_pdu_legend(nat)]
    body += _row_frame(scale, unit, len(items), nat)
    for i, row in enumerate(items):
        body += _pdu_row(row, _row_y(i), scale, unit)
    return _svg(cid, "pdu", title, desc, _row_height(len(items)), body)


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
    return _comparison_words(_provider_rows(values, provider_id), unit, _num(national), period, polarity)


def _comparison_words(rows: list[_Row], unit: str, nat: float | None, period: date | None, polarity: str | None) -> str:
    when = f" in {_month(period)}" if period else ""
    national_words = f", national {_format(nat, unit)}" if nat is not None else ""
    valued = [r for r in rows if r.value is not None]
    if not valued:
        return f"No data: no provider has a value{when}."
    focus = next((r for r in rows if r.is_focus), None)
    if focus is None:
        low, high = min(valued, key=lambda r: _valued(r.value)), max(valued, key=lambda r: _valued(r.value))
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
    return _pdu_words(_pdu_rows(rows), unit, _num(national))


def _pdu_words(items: list[_Row], unit: str, nat: float | None) -> str:
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


@dataclass(frozen=True)
class _Row:
    label: str
    value: float | None
    ci: tuple[float, float] | None
    is_focus: bool = False
    comparison: str = "not compared"


def _provider_rows(values: Iterable[ProviderValue | tuple], provider_id: str) -> list[_Row]:
    raw = [ProviderValue(*v) for v in values]
    flagged = any(bool(v.is_focus) for v in raw)
    prefix = f"{provider_id} "

    def is_focus(v: ProviderValue) -> bool:
        if flagged:
            return bool(v.is_focus)
        return bool(provider_id) and (str(v.label) == provider_id or str(v.label).startswith(prefix))

    return [_Row(str(v.label), _num(v.value), _interval(v.lower_95, v.upper_95), is_focus(v)) for v in raw]


def _pdu_rows(rows: Iterable[PduRow | tuple]) -> list[_Row]:
    raw = [PduRow(*r) for r in rows]
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
    valued = sorted((r for r in rows if r.value is not None), key=lambda r: (sign * _valued(r.value), r.label))
    return valued + sorted((r for r in rows if r.value is None), key=lambda r: r.label)


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


def _row_extent(rows: list[_Row], national: float | None) -> list[float]:
    values = [v for r in rows if r.value is not None for v in (r.value, *(r.ci or ()))]
    return values + ([national] if national is not None else [])


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
