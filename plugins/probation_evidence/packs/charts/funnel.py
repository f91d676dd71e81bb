"""A funnel plot for the evidence pack: every unit's value against its denominator, with control limits.

x is the denominator (log scale when the denominators span more than 20 times, else linear), y the value.
The target is a solid line, the 95% limits dashed and the 99.8% limits dotted, each a polyline through the
limits given (worked out upstream, with or without an overdispersion adjustment, which the caption says).
The focus units (the pack's provider, or its PDUs) are larger, in the provider colour and labelled; the
rest are grey. Where a point lies is in its shape as well as its colour: a circle within the limits, a
hollow triangle outside the 95% limits only, a filled triangle outside the 99.8% limits, pointing up when
above the funnel and down when below.

`funnel_summary` is the chart's <desc>; the pack gives the same numbers as a table (packs.figures). The
chart shares the other charts' width, palette, escaping, number formats and "no data" rendering.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from probation_evidence.packs.charts.marks import _marker
from probation_evidence.packs.charts.scales import _Scale, _scale
from probation_evidence.packs.charts.svg import (
    GRID,
    INK,
    MUTED,
    OTHER,
    PROVIDER,
    WIDTH,
    _check_id,
    _clean,
    _fit,
    _heading,
    _legend,
    _line,
    _n,
    _no_data,
    _num,
    _polyline,
    _svg,
    _text,
    _valued,
)
from probation_evidence.packs.charts.words import _count, _format, _polarity_words, _tick_label


@dataclass(frozen=True)
class FunnelPoint:
    """One unit (provider or PDU): its denominator, value and where it lies against the limits."""

    unit_id: str
    label: str
    denominator: float | None
    value: float | None
    position: str  # 'better (99.8%)' | 'better (95%)' | 'within limits' | 'worse (95%)' | 'above (95%)' ...
    is_focus: bool = False


@dataclass(frozen=True)
class FunnelLimit:
    """The control limits at one denominator (None where a limit is not defined)."""

    denominator: float | None
    lower_95: float | None
    upper_95: float | None
    lower_998: float | None
    upper_998: float | None


# Plot area (viewBox units).
_LEFT, _RIGHT, _TOP, _BOTTOM = 64.0, 616.0, 74.0, 304.0
_LOG_RATIO = 20.0  # denominators spanning more than this many times are shown on a log scale
DASH_95, DOT_998 = "6 4", "1.5 3"
_CAPTION_CHARS = 112
#: A white outline behind label text, so labels stay legible over lines and points.
_HALO = {"stroke": "#ffffff", "stroke_width": 3, "stroke_linejoin": "round", "paint_order": "stroke"}


def funnel_chart(
    points: Iterable[FunnelPoint],
    limits: Iterable[FunnelLimit],
    *,
    target: float | None,
    unit: str,
    polarity: str,
    chart_id: str,
    title: str,
    adjusted: bool = False,
    method_note: str = "",
    target_label: str = "Target",
    x_label: str = "Denominator",
    others_label: str = "Other units",
) -> Markup:
    """Funnel plot; the order of `points` and `limits` does not matter.

    Points with no finite value or a denominator of zero or less cannot be placed and are left out (the
    summary counts them). `polarity` ('up', 'down', 'none') is said in the summary; which side of the
    funnel a point lies comes from its `position` ('above'/'below', else its value against the target).
    """
    cid = _check_id(chart_id)
    points = list(points)  # read twice below
    shown, _ = _plottable(points)
    desc = funnel_summary(points, target=target, unit=unit, adjusted=adjusted, polarity=polarity)
    if not shown:
        return _no_data(cid, "funnel", title, desc, suppressed=False)
    goal = _num(target)
    lims = sorted(limits, key=lambda lim: (_num(lim.denominator) or 0.0, repr(lim)))
    xs = _x_scale([_valued(p.denominator) for p in shown])
    ys = _scale(_y_extent(shown, lims, goal, xs), _BOTTOM, _TOP)
    body = [*_heading(title), *_funnel_legend(shown, goal, target_label, others_label)]
    body += _y_axis(ys, unit) + _x_axis(xs, x_label)
    body.append(
        f'<defs><clipPath id="{cid}-plot"><rect x="{_n(_LEFT)}" y="{_n(_TOP)}" width="{_n(_RIGHT - _LEFT)}"'
        f' height="{_n(_BOTTOM - _TOP)}"/></clipPath></defs>'
    )  # cid is checked to be [A-Za-z0-9_-]+
    body.append(f'<g class="funnel-limits" clip-path="url(#{cid}-plot)">')
    body += _limit_lines(lims, xs, ys)
    body.append("</g>")
    if goal is not None:
        body += _target_line(goal, ys, unit, target_label)
    body += _points(shown, xs, ys, goal, unit)
    caption, height = _caption(adjusted, method_note)
    return _svg(cid, "funnel", title, desc, height, body + caption)


def funnel_summary(
    points: Iterable[FunnelPoint],
    *,
    target: float | None,
    unit: str,
    adjusted: bool,
    polarity: str | None = None,
) -> str:
    """E.g. '48 units, target 61.2%: 3 outside the 99.8% limits, 5 outside the 95% limits only, ...'."""
    shown, left_out = _plottable(points)
    goal = _num(target)
    limit_words = "Limits adjusted for overdispersion." if adjusted else "Limits not adjusted for overdispersion."
    if not shown:
        return "No data: no unit has a value and a denominator" + (f" ({left_out} left out)." if left_out else ".")
    text = _count(len(shown), "unit") + (f", target {_format(goal, unit)}" if goal is not None else "")
    levels = [_level(p) for p in shown]
    text += (
        f": {levels.count('998')} outside the 99.8% limits, {levels.count('95')} outside the 95% limits only, "
        f"{levels.count('within')} within the limits"
    )
    unknown = levels.count("unknown")
    text += (f", {unknown} not assessed." if unknown else ".") + _polarity_words(polarity)
    focus = [p for p in shown if p.is_focus]
    if focus:
        text += " " + _listed([_point_words(p, unit) for p in focus], "; ") + "."
    outside = [p for p in shown if not p.is_focus and _level(p) == "998"]
    if outside:
        text += " Others outside the 99.8% limits: " + _listed([_point_words(p, unit, position=False) for p in outside])
        text += "."
    if left_out:
        text += f" {left_out} not plotted (no value or no denominator)."
    return f"{text} {limit_words}"


def _plottable(points: Iterable[FunnelPoint]) -> tuple[list[FunnelPoint], int]:
    """Points with a finite value and a positive denominator, in a fixed order (focus drawn last, on top)."""
    items = list(points)
    shown = [p for p in items if _num(p.value) is not None and (_num(p.denominator) or 0.0) > 0]
    shown.sort(key=lambda p: (bool(p.is_focus), _valued(p.denominator), _valued(p.value), _clean(p.unit_id), repr(p)))
    return shown, len(items) - len(shown)


def _level(point: FunnelPoint) -> str:
    """'within', '95' (outside 95% only), '998' (outside 99.8%) or 'unknown'."""
    said = _clean(point.position or "").lower()
    if "within" in said:
        return "within"
    if "99.8" in said:
        return "998"
    if "95" in said:
        return "95"
    return "unknown"


def _side(point: FunnelPoint, target: float | None) -> str | None:
    """'above' or 'below' the funnel, from the position's words or else the value against the target."""
    said = _clean(point.position or "").lower()
    if "above" in said or "higher" in said:
        return "above"
    if "below" in said or "lower" in said:
        return "below"
    if target is None or _valued(point.value) == target:
        return None
    return "above" if _valued(point.value) > target else "below"


def _point_style(point: FunnelPoint, target: float | None) -> tuple[str, bool, str]:
    """(shape, filled, css) for a point's marker."""
    level, side = _level(point), _side(point, target)
    if level == "within":
        return "circle", True, "funnel-within"
    if level in ("95", "998") and side:
        return ("up" if side == "above" else "down"), level == "998", f"funnel-{side}-{level}"
    return "circle", False, "funnel-unknown"


def _denominator_text(value: float | None) -> str:
    number = _num(value)
    if number is None:
        return "\u2013"
    return f"{number:,.0f}" if number == round(number) else f"{number:,.1f}"


def _point_words(point: FunnelPoint, unit: str, *, position: bool = True) -> str:
    value = _format(_num(point.value), unit)
    text = f"{_clean(point.label)} {value} (denominator {_denominator_text(point.denominator)})"
    return text + (f", {_clean(point.position)}" if position and point.position else "")


def _listed(words: list[str], joiner: str = ", ", limit: int = 10) -> str:
    """The first `limit` items, then 'and N more'."""
    more = f" and {len(words) - limit} more" if len(words) > limit else ""
    return joiner.join(words[:limit]) + more


@dataclass(frozen=True)
class _XScale:
    lo: float
    hi: float
    log: bool
    ticks: tuple[float, ...]

    def __call__(self, value: float) -> float:
        if self.log:
            if value <= 0:
                return _LEFT - 10_000.0  # off the plot (and clipped): a log axis has no place for it
            where = (math.log10(value) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            where = (value - self.lo) / (self.hi - self.lo)
        return _LEFT + max(-50.0, min(50.0, where)) * (_RIGHT - _LEFT)


def _x_scale(denominators: Sequence[float]) -> _XScale:
    """Linear with nice ticks, or log when the largest denominator is more than 20 times the smallest."""
    low, high = min(denominators), max(denominators)
    if high / low <= _LOG_RATIO:
        linear = _scale(denominators, _LEFT, _RIGHT)
        return _XScale(linear.lo, linear.hi, False, tuple(linear.ticks()))
    nice = [
        m * 10.0**k for k in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1) for m in (1, 2, 5)
    ]
    lo = max(v for v in nice if v <= low * (1 + 1e-9))
    hi = min(v for v in nice if v >= high * (1 - 1e-9))
    ticks = [v for v in nice if lo <= v <= hi]
    if len(ticks) > 8:  # a wide span: powers of ten only, plus the ends
        ticks = [v for v in ticks if v in (lo, hi) or math.isclose(math.log10(v), round(math.log10(v)))]
    return _XScale(lo, hi, True, tuple(ticks))


def _y_extent(points: list[FunnelPoint], limits: list[FunnelLimit], target: float | None, xs: _XScale) -> list[float]:
    """Points, target, and the limits where the plot shows them (the funnel's mouth can be far off)."""
    values = [_valued(p.value) for p in points] + ([target] if target is not None else [])
    for lim in limits:
        den = _num(lim.denominator)
        if den is not None and xs.lo <= den <= xs.hi:
            bounds = (lim.lower_95, lim.upper_95, lim.lower_998, lim.upper_998)
            values += [v for v in map(_num, bounds) if v is not None]
    return values


def _y_of(ys: _Scale, value: float) -> float:
    """The y of a value, kept within a generous band around the plot so coordinates stay sane."""
    return max(_TOP - 2_000.0, min(_BOTTOM + 2_000.0, ys(value)))


def _y_axis(ys: _Scale, unit: str) -> list[str]:
    out = []
    for tick in ys.ticks():
        y = ys(tick)
        out.append(_line(_LEFT, y, _RIGHT, y, "chart-grid", GRID, stroke_width=1))
        out.append(_text(_LEFT - 6, y + 4, _tick_label(tick, unit), "chart-tick", fill=MUTED, text_anchor="end"))
    if unit and unit != "%":
        mid = (_TOP + _BOTTOM) / 2
        rotate = f"rotate(-90 14 {_n(mid)})"
        out.append(_text(14, mid, _fit(unit, 24), "chart-unit", fill=MUTED, text_anchor="middle", transform=rotate))
    return out


def _x_axis(xs: _XScale, label: str) -> list[str]:
    out = [_line(_LEFT, _BOTTOM, _RIGHT, _BOTTOM, "chart-axis", MUTED, stroke_width=1)]
    for tick in xs.ticks:
        x = xs(tick)
        out.append(_line(x, _BOTTOM, x, _BOTTOM + 4, "chart-axis", MUTED, stroke_width=1))
        out.append(_text(x, _BOTTOM + 16, _tick_label(tick, ""), "chart-tick", fill=MUTED, text_anchor="middle"))
    words = _fit(label, 60) + (" (log scale)" if xs.log else "")
    out.append(_text((_LEFT + _RIGHT) / 2, _BOTTOM + 31, words, "chart-axis-label", fill=MUTED, text_anchor="middle"))
    return out


def _limit_lines(limits: list[FunnelLimit], xs: _XScale, ys: _Scale) -> list[str]:
    """One polyline per limit through every limit given (broken where one is missing), clipped to the plot."""
    out = []
    for field, cls, dash in (
        ("upper_998", "funnel-limit funnel-998", DOT_998),
        ("lower_998", "funnel-limit funnel-998", DOT_998),
        ("upper_95", "funnel-limit funnel-95", DASH_95),
        ("lower_95", "funnel-limit funnel-95", DASH_95),
    ):
        runs: list[list[tuple[float, float]]] = [[]]
        for lim in limits:
            den, value = _num(lim.denominator), _num(getattr(lim, field))
            if den is None or value is None or (xs.log and den <= 0):
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append((xs(den), _y_of(ys, value)))
        style = {"stroke_width": 1.4 if dash == DASH_95 else 1.8, "stroke_dasharray": dash}
        if dash == DOT_998:
            style["stroke_linecap"] = "round"
        out += [_polyline(run, f"{cls} funnel-{field.replace('_', '-')}", INK, **style) for run in runs if run]
    return out


def _target_line(target: float, ys: _Scale, unit: str, label: str) -> list[str]:
    y = _y_of(ys, target)
    words = f"{_fit(label, 30)} {_format(target, unit, with_unit=False)}"
    return [
        _line(_LEFT, y, _RIGHT, y, "funnel-target", INK, stroke_width=1.6),
        _text(_RIGHT - 2, y - 4, words, "funnel-target-label", text_anchor="end", font_size=10, **_HALO),
    ]


def _points(points: list[FunnelPoint], xs: _XScale, ys: _Scale, target: float | None, unit: str) -> list[str]:
    out, labels = [], []
    placed: list[tuple[float, float, float, float]] = []
    for p in points:
        shape, filled, css = _point_style(p, target)
        x, y = xs(_valued(p.denominator)), _y_of(ys, _valued(p.value))
        colour, size = (PROVIDER, 5.5) if p.is_focus else (OTHER, 3.6)
        focus = " funnel-focus" if p.is_focus else " funnel-other"
        tip = _point_words(p, unit)
        out.append(_marker(shape, x, y, size, f"chart-point {css}{focus}", colour, filled=filled, tip=tip))
        if p.is_focus:
            labels += _focus_label(p, x, y, placed)
    return out + labels


def _focus_label(point: FunnelPoint, x: float, y: float, placed: list[tuple[float, float, float, float]]) -> list[str]:
    """A label beside a focus point, moved up or down (with a leader line) when it would overlap another."""
    text = _fit(point.label, 28)
    width = len(text) * 5.9 + 4
    right = x + 9 + width <= WIDTH - 4
    left_edge = x + 9 if right else x - 9 - width
    shift = next(
        (
            shift
            for shift in (0.0, 12.0, -12.0, 24.0, -24.0, 36.0, -36.0)
            if y + shift - 8 >= _TOP - 6
            and y + shift + 4 <= _BOTTOM + 6
            and not any(_overlaps((left_edge, y + shift - 8, left_edge + width, y + shift + 4), b) for b in placed)
        ),
        0.0,
    )
    placed.append((left_edge, y + shift - 8, left_edge + width, y + shift + 4))
    anchor = {} if right else {"text_anchor": "end"}
    tx = x + 9 if right else x - 9
    style = {"fill": PROVIDER, "font_weight": "bold", "font_size": 10, **_HALO, **anchor}
    out = [_text(tx, y + shift + 3.5, text, "chart-focus-label", **style)]
    if shift:
        out.insert(0, _line(x, y, tx, y + shift, "chart-leader", PROVIDER, stroke_width=0.8))
    return out


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _symbol(shape: str, filled: bool, colour: str, size: float) -> Callable[[float, float], list[str]]:
    def draw(x: float, y: float) -> list[str]:
        return [_marker(shape, x + 10, y, size, "chart-legend-mark", colour, filled=filled)]

    return draw


def _line_symbol(cls: str, **style: object) -> Callable[[float, float], list[str]]:
    def draw(x: float, y: float) -> list[str]:
        return [_line(x, y, x + 20, y, f"chart-legend-line {cls}-key", INK, **style)]

    return draw


def _funnel_legend(points: list[FunnelPoint], target: float | None, target_label: str, others: str) -> list[str]:
    focus = [p for p in points if p.is_focus]
    first = []
    if focus:
        name = _fit(focus[0].label, 30) if len({p.label for p in focus}) == 1 else "Focus units"
        first.append((_symbol("circle", True, PROVIDER, 5), name))
    if len(focus) < len(points):
        first.append((_symbol("circle", True, OTHER, 3.6), _fit(others, 30)))
    if target is not None:
        first.append((_line_symbol("funnel-target", stroke_width=1.6), _fit(target_label, 30)))
    second = [
        (_line_symbol("funnel-95", stroke_width=1.4, stroke_dasharray=DASH_95), "95% limits"),
        (
            _line_symbol("funnel-998", stroke_width=1.8, stroke_dasharray=DOT_998, stroke_linecap="round"),
            "99.8% limits",
        ),
        (_symbol("up", False, MUTED, 4), "Outside 95%"),
        (_symbol("up", True, MUTED, 4), "Outside 99.8% (\u25b2 above, \u25bc below)"),
    ]
    return _legend(first, 8, 34) + _legend(second, 8, 52)


def _wrap(text: str, width: int, lines: int) -> list[str]:
    """Words into at most `lines` lines of about `width` characters; the last one cut with an ellipsis."""
    out: list[str] = []
    for word in text.split():
        if out and len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[: lines - 1] + [_fit(" ".join(out[lines - 1 :]), width)]
    return [_fit(line, width) for line in out]


def _caption(adjusted: bool, method_note: str) -> tuple[list[str], float]:
    words = "Limits adjusted for overdispersion." if adjusted else "Limits not adjusted for overdispersion."
    note = " ".join(_clean(method_note).split())
    lines = _wrap(f"{words} {note}".strip(), _CAPTION_CHARS, 3)
    top = _BOTTOM + 50
    css = "chart-caption funnel-adjusted" if adjusted else "chart-caption funnel-unadjusted"
    out = [_text(8, top + 12 * i, line, css, fill=MUTED, font_size=10) for i, line in enumerate(lines)]
    return out, top + 12 * (len(lines) - 1) + 10
