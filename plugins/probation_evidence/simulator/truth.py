"""The latent truth: a hidden band per provider per standard.

Every simulated source is generated from these bands, so the pipeline's indicative bands can later be
scored against them. The pipeline must never read them: they are written to a separate file only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from probation_evidence.reference.framework import RATINGS
from probation_evidence.simulator.rng import seeded_rng

STANDARDS = ("1.1", "1.2", "1.3", "1.4")
#: The hidden bands are the framework's four ratings.
BANDS = RATINGS

# Lower bounds on a standard-normal score, best band first. They give roughly 7% Outstanding, 45% Good,
# 38% Requires improvement and 10% Inadequate: mostly Good/RI, as in published inspections.
_BAND_THRESHOLDS = ((1.48, "Outstanding"), (-0.05, "Good"), (-1.28, "Requires improvement"))

# A shared provider-quality factor makes a provider's four standards correlate, as real ratings do;
# the weights keep the combined score standard normal (0.6^2 + 0.8^2 = 1).
_QUALITY_WEIGHT = 0.6
_STANDARD_WEIGHT = 0.8


def _band_for(score: float) -> str:
    for threshold, band in _BAND_THRESHOLDS:
        if score >= threshold:
            return band
    return "Inadequate"


def provider_bands(seed: int, provider_id: str) -> dict[str, str]:
    """The hidden band for each standard of one provider; independent of the as-at date."""
    rng = seeded_rng(seed, provider_id, "truth")
    quality = rng.gauss(0.0, 1.0)
    return {
        standard: _band_for(_QUALITY_WEIGHT * quality + _STANDARD_WEIGHT * rng.gauss(0.0, 1.0))
        for standard in STANDARDS
    }


def write_truth(path: str | Path, seed: int, providers: Iterable[str]) -> Path:
    """Write the latent bands of the given providers as JSON to ``path`` and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "description": "Simulator latent truth: hidden bands per provider and standard. Not pipeline input.",
        "seed": seed,
        "providers": {provider_id: provider_bands(seed, provider_id) for provider_id in sorted(providers)},
    }
    target.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target
