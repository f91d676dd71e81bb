"""SVG writing shared by every pack chart: palette, escaping, elements, legend and the chart's frame.

Every data string reaches the output through `_el` (or `_attr`), which escapes it, so a chart never emits
unescaped data; numbers are written by `_n` with at most 2 dp, so the same input gives the same bytes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

# Look. Colours are dark enough for text contrast on white; shapes and dashes carry meaning.
WIDTH = 640
INK = "#0b0c0c"
MUTED = "#505a5f"
GRID = "#d8dadb"
PROVIDER = "#1d4f91"
BAND = "#c6d6ea"
OTHER = "#6f777b"
FOCUS_BAND = "#eef2f7"
NATIONAL_DASH = "6 4"
_CHART_ID = re.compile(r"[A-Za-z0-9_-]+")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


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


def _valued(value: float | None) -> float:
    """A value known to be there (of a run, row or point kept for having one), as a float."""
    assert value is not None, "only values that are there are drawn"
    return float(value)


def _interval(lower: object, upper: object) -> tuple[float, float] | None:
    low, high = _num(lower), _num(upper)
    if low is None or high is None:
        return None
    return (min(low, high), max(low, high))


def _clean(text: object) -> str:
    """Data text without characters XML cannot hold (escaping is done where text is written)."""
    return _CONTROL.sub(" ", str(text))


def _fit(text: str, limit: int) -> str:
    text = _clean(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


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


def _polyline(coords: list[tuple[float, float]], cls: str, colour: str, **style: object) -> str:
    attrs: dict[str, object] = {"class": cls, "points": " ".join(f"{_n(x)},{_n(y)}" for x, y in coords)}
    attrs.update({"fill": "none", "stroke": colour, "stroke-linejoin": "round"})
    attrs.update({key.replace("_", "-"): value for key, value in style.items()})
    return _el("polyline", attrs)


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


def _legend(entries: Sequence[tuple[Callable[[float, float], list[str]], str]], x: float, y: float) -> list[str]:
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
