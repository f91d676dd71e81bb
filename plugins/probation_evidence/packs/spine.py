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
its word. `spine_summary` is the chart's <desc> (one paragraph of counts) and `spine_table` gives the same
numbers as an HTML table for keyboard and screen-reader users.

The chart uses `charts`' width, palette, escaping and number formats, so it scales with the pack's other
charts (viewBox 640 wide, drawn at 100% of its container) and prints the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# charts' private helpers are imported on purpose: every pack chart shares one palette, one escaping path
# (_el/_text/_attr), one number format and one "no data" rendering.
from probation_evidence.packs.charts import (
    _POLARITY,
    INK,
    MUTED,
    WIDTH,
    _check_id,
    _clean,
    _count,
    _el,
    _fit,
    _format,
    _heading,
    _legend,
    _line,
    _n,
    _no_data,
    _num,
    _svg,
    _text,
    format_indicator_value,
)

__all__ = ["SpineRow", "spine_chart", "spine_summary", "spine_table"]


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


# ---------------------------------------------------------------------------------------------------
# Look and layout (viewBox units; the chart is WIDTH wide like every pack chart)
# ---------------------------------------------------------------------------------------------------

BETTER = "#1d70b8"
WORSE = "#b10e1e"
SIMILAR = "#505a5f"
NEUTRAL = "#5b3a8c"  # higher/lower for an indicator with no polarity: neither good nor bad
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


# ---------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------


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


def spine_table(
    rows: Iterable[SpineRow],
    *,
    caption: str = "All indicators compared with national",
    standard_names: Mapping[str, str] | None = None,
) -> Markup:
    """The spine chart's numbers as an accessible HTML table: one row group per standard."""
    items = _ordered(rows)
    heads = ("Indicator", "Value", "National", "Lowest", "Lower quartile", "Upper quartile", "Highest")
    heads += ("Peer group", "Compared at 95%", "Compared at 99.8%")
    out = [f'<table class="data-table spine-table">\n<caption>{escape(_clean(caption))}</caption>']
    out.append("<thead><tr>" + "".join(_th(h, "col", numeric=0 < i < 8) for i, h in enumerate(heads)) + "</tr></thead>")
    for standard_id, group in _groups(items):
        out.append("<tbody>")
        name = (standard_names or {}).get(standard_id)
        words = f"Standard {standard_id}" + (f" {_clean(name)}" if name else "")
        out.append(f'<tr><th scope="rowgroup" colspan="{len(heads)}">{escape(words)}</th></tr>')
        out += [_table_row(row) for row in group]
        out.append("</tbody>")
    if not items:
        out.append(f'<tbody><tr><td colspan="{len(heads)}">No data: no indicators.</td></tr></tbody>')
    out.append("</table>")
    # Safe: every data string above went through `escape`.
    return Markup("\n".join(out))  # noqa: S704


# ---------------------------------------------------------------------------------------------------
# Comparison outcome of a row
# ---------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------
# Order and grouping
# ---------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------
# Row geometry: a scale per row, centred on national
# ---------------------------------------------------------------------------------------------------


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
    known = [_num(v) for v in (row.minimum, row.lower_quartile, row.upper_quartile, row.maximum, row.peer_value)]
    known = [v for v in (*known, _shown_value(row)) if v is not None]
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


def _marker(shape: str, x: float, y: float, size: float, cls: str, colour: str, *, filled: bool, tip: str = "") -> str:
    """A marker as one path: start at the centre, then relative moves, so the shape reads the same anywhere."""
    s = size
    relative = {
        "circle": f"m{_n(-s)} 0a{_n(s)} {_n(s)} 0 1 0 {_n(2 * s)} 0a{_n(s)} {_n(s)} 0 1 0 {_n(-2 * s)} 0z",
        "square": f"m{_n(-0.9 * s)} {_n(-0.9 * s)}h{_n(1.8 * s)}v{_n(1.8 * s)}h{_n(-1.8 * s)}z",
        "diamond": f"m0 {_n(-1.25 * s)}l{_n(1.25 * s)} {_n(1.25 * s)}l{_n(-1.25 * s)} {_n(1.25 * s)}"
        f"l{_n(-1.25 * s)} {_n(-1.25 * s)}z",
        "up": f"m0 {_n(-1.15 * s)}l{_n(1.1 * s)} {_n(2 * s)}h{_n(-2.2 * s)}z",
        "down": f"m0 {_n(1.15 * s)}l{_n(1.1 * s)} {_n(-2 * s)}h{_n(-2.2 * s)}z",
        "cross": f"m{_n(-0.8 * s)} {_n(-0.8 * s)}l{_n(1.6 * s)} {_n(1.6 * s)}m0 {_n(-1.6 * s)}"
        f"l{_n(-1.6 * s)} {_n(1.6 * s)}",
    }[shape]
    if shape == "cross":
        paint = {"fill": "none", "stroke": colour, "stroke-width": 1.8, "stroke-linecap": "round"}
    else:
        paint = {"fill": colour if filled else "#ffffff", "stroke": colour, "stroke-width": 1 if filled else 1.6}
    return _el("path", {"class": cls, "d": f"M{_n(x)} {_n(y)}{relative}", **paint}, tip=tip or None)


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


# ---------------------------------------------------------------------------------------------------
# Frame: legend, column headers, group headers, footnote
# ---------------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------
# Table
# ---------------------------------------------------------------------------------------------------


def _th(text: str, scope: str, *, numeric: bool = False) -> str:
    css = ' class="num"' if numeric else ""
    return f'<th scope="{scope}"{css}>{escape(_clean(text))}</th>'


def _td(text: str, *, numeric: bool = False) -> str:
    css = ' class="num"' if numeric else ""
    return f"<td{css}>{escape(_clean(text))}</td>"


def _table_row(row: SpineRow) -> str:
    unit = _clean(row.unit or "")
    suffix = f" {unit}" if unit and unit not in ("%", "ratio") else ""

    def cell(value: object) -> str:
        return _td(format_indicator_value(_num(value), unit, missing="\u2013", suffix=suffix), numeric=True)

    value = (
        _word(row)
        if _shown_value(row) is None
        else format_indicator_value(_shown_value(row), unit, missing="", suffix=suffix)
    )
    cells = [_th(f"{_clean(row.indicator_id)} {_clean(row.label)}", "row"), _td(value, numeric=True)]
    cells += [cell(v) for v in (row.national_value, row.minimum, row.lower_quartile, row.upper_quartile, row.maximum)]
    cells.append(cell(row.peer_value))
    for word in (row.comparison_95, row.comparison_998):
        said = _direction(word, row) if _shown_value(row) is not None else None
        cells.append(_td(said.capitalize() if said else "Not compared"))
    return "<tr>" + "".join(cells) + "</tr>"
