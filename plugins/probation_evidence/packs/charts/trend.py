"""The trend chart: the provider's value over periods, with its 95% interval and the national value.

`trend_chart` draws it; `trend_summary` is its <desc>, also the pack's caption.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import NamedTuple, TypeVar

from markupsafe import Markup

from probation_evidence.packs.charts.scales import _Scale, _scale
from probation_evidence.packs.charts.svg import (
    BAND,
    GRID,
    MUTED,
    NATIONAL_DASH,
    OTHER,
    PROVIDER,
    _check_id,
    _clean,
    _el,
    _fit,
    _heading,
    _interval,
    _legend,
    _line,
    _n,
    _national_symbol,
    _no_data,
    _num,
    _polyline,
    _shape,
    _svg,
    _text,
    _valued,
)
from probation_evidence.packs.charts.words import _count, _date_formatter, _format, _tick_label, _when


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


_Point = TypeVar("_Point", TrendPoint, NationalPoint)


# Plot area (viewBox units).
_T_HEIGHT = 232
_T_LEFT, _T_RIGHT, _T_TOP, _T_BOTTOM = 64.0, 616.0, 50.0, 196.0


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


def _trend_points(points: Iterable[TrendPoint | tuple]) -> list[TrendPoint]:
    clean = [TrendPoint(*p) for p in points]
    clean = [TrendPoint(p.period_end, _num(p.value), _num(p.lower_95), _num(p.upper_95)) for p in clean]
    return sorted(clean, key=lambda p: p.period_end)


def _national_points(points: Iterable[NationalPoint | tuple] | None) -> list[NationalPoint]:
    clean = [NationalPoint(*p) for p in points or ()]
    return sorted((NationalPoint(p.period_end, _num(p.value)) for p in clean), key=lambda p: p.period_end)


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


def _trend_extent(points: list[TrendPoint], national: list[NationalPoint]) -> list[float]:
    values = [v for p in points if p.value is not None for v in (p.value, *(_interval(p.lower_95, p.upper_95) or ()))]
    return values + [n.value for n in national if n.value is not None]


def _date_positions(dates: list[date]) -> dict[date, float]:
    if len(dates) == 1:
        return {dates[0]: (_T_LEFT + _T_RIGHT) / 2}
    first, span = dates[0].toordinal(), dates[-1].toordinal() - dates[0].toordinal()
    left, width = _T_LEFT + 14, _T_RIGHT - _T_LEFT - 28
    return {d: left + (d.toordinal() - first) / span * width for d in dates}


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


def _runs(items: Sequence[_Point], keep: Callable[[_Point], bool]) -> list[list[_Point]]:
    """Consecutive stretches of items that pass `keep`; a failing item breaks the stretch."""
    runs: list[list[_Point]] = [[]]
    for item in items:
        if keep(item):
            runs[-1].append(item)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _trend_bands(points: list[TrendPoint], xs: dict[date, float], ys: _Scale) -> list[str]:
    out = []
    for run in _runs(points, lambda p: p.value is not None and _interval(p.lower_95, p.upper_95) is not None):
        cis = [ci for p in run if (ci := _interval(p.lower_95, p.upper_95)) is not None]  # all of them: see keep
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
            coords = [(xs[n.period_end], ys(_valued(n.value))) for n in run]
            out.append(_polyline(coords, "chart-national", MUTED, stroke_width=1.5, stroke_dasharray=NATIONAL_DASH))
            continue
        only = run[0]
        tip = f"National, {fmt_date(only.period_end)}: {_format(only.value, unit)}"
        out.append(
            _shape("square", xs[only.period_end], ys(_valued(only.value)), 3, "chart-national-point", MUTED, tip)
        )
    return out


def _provider_trend(
    points: list[TrendPoint], xs: dict[date, float], ys: _Scale, unit: str, fmt_date: Callable[[date], str]
) -> list[str]:
    out = []
    for run in _runs(points, lambda p: p.value is not None):
        if len(run) > 1:
            coords = [(xs[p.period_end], ys(_valued(p.value))) for p in run]
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
