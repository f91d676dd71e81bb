"""Point markers as single SVG paths, shared by the spine chart and the funnel plot.

Each marker starts at its centre and draws with relative moves, so a shape reads the same anywhere:
circle, square, diamond, triangle up or down (filled or hollow), and a cross.
"""

from __future__ import annotations

from probation_evidence.packs.charts.svg import _el, _n


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
