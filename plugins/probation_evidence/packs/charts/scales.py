"""Linear scales with 'nice' ticks (1, 2, 2.5 or 5 times a power of ten), for the charts' value axes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


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
