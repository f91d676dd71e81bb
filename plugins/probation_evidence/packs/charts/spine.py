"""The pack's one-page overview: a spine chart of every domain-one indicator for one provider.

One row per indicator, grouped by standard, drawn as public health profiles draw them: a bar centred on the
national value and scaled row by row, so indicators in different units sit side by side. The worst
provider value is at the left end and the best at the right (for an indicator with no polarity, the
lowest left and the highest right, and nothing is called better or worse). The darker band is the middle
half of providers (inter-quartile range), the vertical line the national value, a small caret above the
bar the peer-group value, and the provider's own value is a marker whose shape and fill say how it
compares with national:

    filled circle   better, at 99.8%          hollow square   worse, at 95% only
    hollow circle   better, at 95% only       filled square   worse, at 99.8%
    diamond         similar                   cross           not compared
    triangles       higher or lower (up/down; hollow 95%, filled 99.8%) for an indicator with no polarity

The comparison is also written as a word beside each row, and the value and national value are printed,
so nothing rests on colour or shape alone. A suppressed or missing value has no marker (never a zero), only
its word. The rows and their outcomes are in `spine_rows`, whose `spine_summary` is the chart's <desc>;
the pack gives the same numbers as a table (packs.figures) for keyboard and screen-reader users.

The chart uses the shared width, palette, escaping and number formats, so it scales with the pack's other
charts (viewBox 640 wide, drawn at 100% of its container) and prints the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from probation_evidence.packs.charts.marks import _marker
from probation_evidence.packs.charts.spine_rows import (
    _MARKS,
    SIMILAR,
    SpineRow,
    _category,
    _groups,
    _ordered,
    _shown_value,
    _word,
    spine_summary,
)
from probation_evidence.packs.charts.svg import (
    INK,
    MUTED,
    WIDTH,
    _check_id,
    _clean,
    _el,
    _fit,
    _heading,
    _legend,
    _line,
    _n,
    _no_data,
    _num,
    _svg,
    _text,
)
from probation_evidence.packs.charts.words import _POLARITY, _format, format_indicator_value

# Look and layout (viewBox units; the chart is WIDTH wide like every pack chart).
RANGE = "#e3e4e5"
IQR = "#b6b9bb"
STRIPE = "#f4f5f5"
_ROW = 14.0
_GROUP = 17.0
_FONT = 9.5
_ID_X, _NAME_X, _NAME_CHARS = 6.0, 34.0, 40
_VALUE_X, _NATIONAL_X = 278.0, 324.0  # right edges of the two number columns
_BAR_LEFT, _BAR_RIGHT = 334.0, 548.0
_BAR_MID, _BAR_HALF = (_BAR_LEFT + _BAR_RIGHT) / 2, (_BAR_RIGHT - _BAR_LEFT) / 2
_BAR_HEIGHT = 8.0
_WORD_X = 556.0
_MARK_SIZE = 4.2


def spine_chart(
    rows: Sequence[SpineRow],
    *,
    chart_id: str,
    title: str,
    standard_names: Mapping[str, str] | None = None,
) -> Markup:
    """Every indicator as one row, grouped by standard (in id order, then indicator id order).

    `standard_names` maps a standard id to the name shown in its group header ("1.2 Staff").
    The order of `rows` does not matter: the same rows in any order give the same bytes.
    """
    cid = _check_id(chart_id)
    items = _ordered(rows)
    desc = spine_summary(items)
    if not items:
        return _no_data(cid, "spine", title, desc, suppressed=False)
    legend, top = _spine_legend(items)
    body = [*_heading(title), *legend, *_column_headers(top)]
    y = top + 8.0
    index = 0
    for standard_id, group in _groups(items):
        body += _group_header(standard_id, (standard_names or {}).get(standard_id), y)
        y += _GROUP
        for row in group:
            body += _row(row, y + _ROW / 2, index)
            y += _ROW
            index += 1
    body += _footnote(y + 14)
    return _svg(cid, "spine", title, desc, y + 34, body)


@dataclass(frozen=True)
class _RowScale:
    centre: float
    half: float  # data units from the centre to either end of the bar
    flip: bool  # lower is better: the lowest value goes right

    def __call__(self, value: float) -> float:
        offset = (value - self.centre) / self.half
        offset = -offset if self.flip else offset
        return _BAR_MID + max(-1.0, min(1.0, offset)) * _BAR_HALF


def _row_scale(row: SpineRow) -> _RowScale:
    """National in the middle; the value furthest from it (any of range, value, peer) at one end."""
    low, high, national = _num(row.minimum), _num(row.maximum), _num(row.national_value)
    spread = (row.minimum, row.lower_quartile, row.upper_quartile, row.maximum, row.peer_value)
    known = [v for v in (*map(_num, spread), _shown_value(row)) if v is not None]
    if national is not None:
        centre = national
    elif low is not None and high is not None:
        centre = (low + high) / 2
    elif known:
        centre = (min(known) + max(known)) / 2
    else:
        centre = 0.0
    half = max((abs(v - centre) for v in known), default=0.0)
    if not half > 1e-12 * max(1.0, abs(centre)):  # all equal (or nothing known): everything at the centre
        half = 1.0
    return _RowScale(centre, half, _POLARITY.get(str(row.polarity or "")) == "lower")


def _caret(x: float, y: float, cls: str) -> str:
    """The peer-group value: a small downward caret sitting on the bar's top edge."""
    top = y - _BAR_HEIGHT / 2
    d = f"M{_n(x)} {_n(top)}l3 -4.5h-6z"
    return _el("path", {"class": cls, "d": d, "fill": INK, "stroke": "#ffffff", "stroke-width": 0.5})


def _bar(row: SpineRow, y: float, scale: _RowScale) -> list[str]:
    """Range band, inter-quartile band, national line and peer caret (each only when known)."""
    out = []
    for low, high, cls, fill in (
        (row.minimum, row.maximum, "spine-range", RANGE),
        (row.lower_quartile, row.upper_quartile, "spine-iqr", IQR),
    ):
        lo, hi = _num(low), _num(high)
        if lo is not None and hi is not None:
            x1, x2 = sorted((scale(lo), scale(hi)))
            height = _BAR_HEIGHT if cls == "spine-range" else _BAR_HEIGHT - 2
            attrs = {"class": cls, "x": x1, "y": y - height / 2, "width": x2 - x1, "height": height, "fill": fill}
            out.append(_el("rect", attrs))
    national = _num(row.national_value)
    if national is not None:
        x = scale(national)
        out.append(_line(x, y - 6, x, y + 6, "spine-national", INK, stroke_width=1.5))
    peer = _num(row.peer_value)
    if peer is not None:
        out.append(_caret(scale(peer), y, "spine-peer"))
    return out


def _number(value: float | None, unit: str) -> str:
    return format_indicator_value(value, unit, missing="\u2013", suffix="")


def _row(row: SpineRow, y: float, index: int) -> list[str]:
    cat = _category(row)
    css = f"spine-{cat}"
    out = [f'<g class="spine-row {css}">']  # css is one of our fixed keys: nothing from the data
    if index % 2:
        out.append(
            _el(
                "rect",
                {"class": "spine-stripe", "x": 0, "y": y - _ROW / 2, "width": WIDTH, "height": _ROW, "fill": STRIPE},
            )
        )
    unit = _clean(row.unit or "")
    suffix = f" ({unit})" if unit and unit != "%" else ""
    name = _fit(_clean(row.label), max(8, _NAME_CHARS - len(suffix))) + suffix
    small = {"font_size": _FONT}
    out.append(_text(_ID_X, y + 3.3, _fit(row.indicator_id, 6), "chart-label-id", font_weight="bold", **small))
    out.append(_text(_NAME_X, y + 3.3, name, "chart-label", **small))
    value = _shown_value(row)
    out.append(_text(_VALUE_X, y + 3.3, _number(value, unit), "chart-value", text_anchor="end", **small))
    national = _num(row.national_value)
    out.append(
        _text(
            _NATIONAL_X,
            y + 3.3,
            _number(national, unit),
            "chart-national-value",
            fill=MUTED,
            text_anchor="end",
            **small,
        )
    )
    scale = _row_scale(row)
    out += _bar(row, y, scale)
    if value is not None:
        mark = _MARKS[cat]
        tip = f"{_clean(row.indicator_id)} {_clean(row.label)}: {_format(value, unit)}, {mark.word}"
        tip += f"; national {_format(national, unit)}" if national is not None else "; no national value"
        out.append(
            _marker(
                mark.shape, scale(value), y, _MARK_SIZE, f"chart-point {css}", mark.colour, filled=mark.filled, tip=tip
            )
        )
        word_style: dict[str, object] = {"fill": mark.colour if mark.colour != SIMILAR else INK}
    else:
        word_style = {"fill": MUTED, "font_style": "italic"}
    out.append(_text(_WORD_X, y + 3.3, _word(row), f"chart-comparison-word {css}", **small, **word_style))
    out.append("</g>")
    return out


def _mark_symbol(key: str) -> Callable[[float, float], list[str]]:
    mark = _MARKS[key]

    def draw(x: float, y: float) -> list[str]:
        return [
            _marker(
                mark.shape, x + 10, y, _MARK_SIZE, f"chart-legend-mark spine-{key}", mark.colour, filled=mark.filled
            )
        ]

    return draw


def _band_symbol(cls: str, fill: str) -> Callable[[float, float], list[str]]:
    def draw(x: float, y: float) -> list[str]:
        attrs = {"class": cls, "x": x, "y": y - _BAR_HEIGHT / 2, "width": 20, "height": _BAR_HEIGHT, "fill": fill}
        return [_el("rect", attrs)]

    return draw


def _national_symbol(x: float, y: float) -> list[str]:
    return [
        _band_symbol("spine-range", RANGE)(x, y)[0],
        _line(x + 10, y - 6, x + 10, y + 6, "spine-national", INK, stroke_width=1.5),
    ]


def _peer_symbol(x: float, y: float) -> list[str]:
    return [_band_symbol("spine-range", RANGE)(x, y)[0], _caret(x + 10, y, "spine-peer")]


def _spine_legend(rows: list[SpineRow]) -> tuple[list[str], float]:
    """Legend lines (markers; neutral markers only when used; bar parts). Returns them and the next free y."""
    cats = {_category(r) for r in rows}
    lines = [
        [(_mark_symbol(k), _MARKS[k].word) for k in ("better-998", "better-95", "similar", "worse-95", "worse-998")]
    ]
    neutral = [k for k in ("higher-998", "higher-95", "lower-95", "lower-998") if k in cats]
    if neutral:
        lines.append([(_mark_symbol(k), _MARKS[k].word) for k in neutral] + [(lambda x, y: [], "no polarity")])
    bar_parts = [(_mark_symbol("not-compared"), "Not compared"), (_band_symbol("spine-range", RANGE), "All providers")]
    bar_parts += [(_band_symbol("spine-iqr", IQR), "Middle half"), (_national_symbol, "National")]
    if any(_num(r.peer_value) is not None for r in rows):
        bar_parts.append((_peer_symbol, "Peer group"))
    lines.append(bar_parts)
    out: list[str] = []
    y = 34.0
    for entries in lines:
        out += _legend(entries, 8, y)
        y += 15
    return out, y + 4


def _column_headers(y: float) -> list[str]:
    style = {"fill": MUTED, "font_size": 9, "font_weight": "bold"}
    return [
        _text(_ID_X, y, "Indicator", "chart-column-head", **style),
        _text(_VALUE_X, y, "Value", "chart-column-head", text_anchor="end", **style),
        _text(_NATIONAL_X, y, "National", "chart-column-head", text_anchor="end", **style),
        _text(_BAR_LEFT, y, "\u2190 Worst (lowest)", "chart-column-head", **style),
        _text(_BAR_RIGHT, y, "Best (highest) \u2192", "chart-column-head", text_anchor="end", **style),
        _text(_WORD_X, y, "Compared", "chart-column-head", **style),
        _line(4, y + 4, WIDTH - 4, y + 4, "chart-axis", MUTED, stroke_width=1),
    ]


def _group_header(standard_id: str, name: str | None, y: float) -> list[str]:
    words = f"Standard {standard_id}" + (f" {_clean(name)}" if name else "")
    return [
        _text(_ID_X, y + _GROUP - 5, _fit(words, 90), "chart-group", font_size=10, font_weight="bold"),
        _line(4, y + _GROUP - 1.5, WIDTH - 4, y + _GROUP - 1.5, "chart-group-rule", MUTED, stroke_width=0.6),
    ]


def _footnote(y: float) -> list[str]:
    lines = (
        "Each bar is scaled for its own row: national value in the middle, worst provider at the left end and best"
        " at the right",
        "(no polarity: lowest left, highest right). Significance is the provider's 95% or 99.8% interval against"
        " national.",
    )
    return [_text(_ID_X, y + 11 * i, text, "chart-footnote", fill=MUTED, font_size=8.5) for i, text in enumerate(lines)]
