"""The calibration statistics, on hand-worked cases."""

from __future__ import annotations

import pytest

from probation_evidence.local.calibration import combine, render_combined_markdown, score, weighted_kappa


def test_perfect_agreement_has_kappa_one():
    pairs = [("Good", "Good"), ("Inadequate", "Inadequate"), ("Outstanding", "Outstanding")]
    assert weighted_kappa(pairs) == 1.0
    assert score(pairs)["agreement"] == 1.0


def test_hand_worked_weighted_kappa():
    # Two raters over 4 items: (G,G), (G,RI), (RI,RI), (I,G). Bands indexed O=0, G=1, RI=2, I=3.
    # Weights (i-j)^2/9. Observed disagreement: (1,2)->1/9, (3,1)->4/9: total 5/9.
    # Marginals: truth G2 RI1 I1; rating G2 RI2. Expected = sum w * r_i * c_j / 4:
    # G row: (G,G)0 + (G,RI)1/9*2*2/4=1/9; RI row: (RI,G)1/9*1*2/4=1/18, (RI,RI)0;
    # I row: (I,G)4/9*1*2/4=2/9, (I,RI)1/9*1*2/4=1/18. Total 1/9+1/18+2/9+1/18 = 4/9.
    # kappa = 1 - (5/9)/(4/9) = -0.25
    pairs = [("Good", "Good"), ("Good", "Requires improvement"), ("Requires improvement", "Requires improvement"),
             ("Inadequate", "Good")]  # fmt: skip
    assert weighted_kappa(pairs) == -0.25


def test_unrated_providers_are_counted_but_not_scored():
    result = score([("Good", "Good"), ("Good", None), ("Inadequate", "Requires improvement")])
    assert (result["providers"], result["rated"]) == (3, 2)
    assert result["agreement"] == 0.5
    assert result["within_one_band"] == 1.0
    assert result["confusion_matrix"]["Inadequate"]["Requires improvement"] == 1
    assert result["mean_shift"] == -0.5


def _result(seed: int, pairs: list[tuple[str, str | None]], version: str = "2026.1") -> dict:
    return {"seed": seed, "rule_version": version, "standards": {"1.1": score(pairs)}, "all_standards": score(pairs)}


def test_combining_seeds_pools_every_provider_once():
    first = _result(1, [("Good", "Good"), ("Inadequate", "Requires improvement")])
    second = _result(2, [("Outstanding", "Outstanding"), ("Good", None)])
    pooled = combine([first, second])
    assert pooled["seeds"] == [1, 2]
    assert (pooled["all_standards"]["providers"], pooled["all_standards"]["rated"]) == (4, 3)
    assert pooled["all_standards"]["agreement"] == round(2 / 3, 3)
    assert pooled["standards"]["1.1"]["confusion_matrix"]["Inadequate"]["Requires improvement"] == 1
    assert pooled["all_standards"]["weighted_kappa"] == weighted_kappa(
        [("Good", "Good"), ("Inadequate", "Requires improvement"), ("Outstanding", "Outstanding")]
    )
    assert pooled["per_seed"]["2"]["rated"] == 1
    text = render_combined_markdown(pooled)
    assert text.startswith("# Calibration on held-out seeds (1, 2), pooled")
    assert "| 1 | 0.5 | 1.0 |" in text


def test_results_under_different_rule_versions_are_not_pooled():
    with pytest.raises(ValueError, match="different roll-up rule versions"):
        combine([_result(1, [("Good", "Good")]), _result(2, [("Good", "Good")], version="2027.1")])
