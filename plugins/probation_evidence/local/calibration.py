"""Score the indicative roll-up against the simulator's hidden truth.

The simulator draws a latent band per provider and standard and generates every source from it; the
pipeline never reads it. Comparing `marts.fct_standard_indicative_ratings` with it says how far the
indicators, their thresholds and the roll-up rule recover what generated the data: exact agreement,
agreement within one band, quadratically weighted kappa and a confusion matrix per standard.

    probation-evidence calibrate [--seed N] [--out output/calibration]
    probation-evidence calibrate --held-out 101 202 303 404     # fresh data per seed, pooled

The demo's seed is the one the indicator thresholds were tuned on, so its score flatters. `--held-out`
(`local.demo.run_held_out`) runs the whole pipeline once per seed, each in a database and folders of its
own, scores each run and pools them: the honest figure. `--combine` pools results written earlier.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from probation_evidence.reference.framework import RATINGS
from probation_evidence.simulator.truth import provider_bands
from probation_evidence.warehouse import read_sql

#: Every provider's indicative band per standard, from the marts.
INDICATIVE_RATINGS_SQL = read_sql("probation_evidence.local", "indicative_ratings")


def weighted_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Quadratically weighted Cohen's kappa of (truth, indicative) pairs over the four ordered bands."""
    n = len(pairs)
    if n == 0:
        return None
    k = len(RATINGS)
    index = {band: i for i, band in enumerate(RATINGS)}
    observed = [[0.0] * k for _ in range(k)]
    for truth, rating in pairs:
        observed[index[truth]][index[rating]] += 1
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    weight = [[(i - j) ** 2 / (k - 1) ** 2 for j in range(k)] for i in range(k)]
    disagreement = sum(weight[i][j] * observed[i][j] for i in range(k) for j in range(k))
    expected = sum(weight[i][j] * rows[i] * cols[j] / n for i in range(k) for j in range(k))
    return None if expected == 0 else round(1 - disagreement / expected, 3)


def score(pairs: list[tuple[str, str | None]]) -> dict:
    rated = [(t, r) for t, r in pairs if r is not None]
    matrix = {truth: {rating: 0 for rating in RATINGS} for truth in RATINGS}
    for truth, rating in rated:
        matrix[truth][rating] += 1
    within_one = sum(abs(RATINGS.index(t) - RATINGS.index(r)) <= 1 for t, r in rated)
    return {
        "providers": len(pairs),
        "rated": len(rated),
        "agreement": round(sum(t == r for t, r in rated) / len(rated), 3) if rated else None,
        "within_one_band": round(within_one / len(rated), 3) if rated else None,
        "weighted_kappa": weighted_kappa(rated),
        "confusion_matrix": matrix,
        "mean_shift": (
            round(sum(RATINGS.index(r) - RATINGS.index(t) for t, r in rated) / len(rated), 3) if rated else None
        ),
    }


def calibrate(warehouse_url: str, seed: int) -> dict:
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(INDICATIVE_RATINGS_SQL).fetchall()
    if not rows:
        raise LookupError("marts.fct_standard_indicative_ratings is empty: run the pipeline (make demo) first")
    by_standard: dict[str, list[tuple[str, str | None]]] = {}
    for provider_id, standard_id, rating, _ in rows:
        by_standard.setdefault(standard_id, []).append((provider_bands(seed, provider_id)[standard_id], rating))
    everything = [pair for pairs in by_standard.values() for pair in pairs]
    return {
        "seed": seed,
        "rule_version": rows[0][3],
        "standards": {standard: score(pairs) for standard, pairs in sorted(by_standard.items())},
        "all_standards": score(everything),
    }


def render_markdown(result: dict) -> str:
    lines = [
        f"# Calibration: indicative bands against the simulator's hidden truth (seed {result['seed']})",
        "",
        f"Roll-up rule version {result['rule_version']}. Rows of each matrix are the truth, columns the "
        "indicative band. Weighted kappa is quadratic: 1 is perfect, 0 is chance.",
        "",
        "| standard | providers | agreement | within one band | weighted kappa | mean shift (bands) |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in [*result["standards"].items(), ("all", result["all_standards"])]:
        lines.append(
            f"| {name} | {s['rated']} of {s['providers']} | {s['agreement']} | {s['within_one_band']} "
            f"| {s['weighted_kappa']} | {s['mean_shift']} |"
        )
    for name, s in result["standards"].items():
        lines += ["", f"**{name}**", "", "| truth \\ indicative | " + " | ".join(RATINGS) + " |", "|---" * 5 + "|"]
        for truth in RATINGS:
            lines.append(f"| {truth} | " + " | ".join(str(s["confusion_matrix"][truth][r]) for r in RATINGS) + " |")
    return "\n".join(lines) + "\n"


def write(result: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "calibration.json", out_dir / "calibration.md"
    json_path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    md_path.write_text(render_markdown(result))
    return json_path, md_path


def _pairs_from_matrix(matrix: dict) -> list[tuple[str, str]]:
    return [(truth, rating) for truth in RATINGS for rating in RATINGS for _ in range(matrix[truth][rating])]


def combine(results: list[dict]) -> dict:
    """Pool per-seed results: every provider and standard of every seed counts once."""
    if not results:
        raise ValueError("nothing to combine")
    versions = {r["rule_version"] for r in results}
    if len(versions) != 1:
        raise ValueError(f"results come from different roll-up rule versions: {sorted(versions)}")
    standards = sorted({s for r in results for s in r["standards"]})
    pooled = {}
    for standard in standards:
        pairs = [p for r in results for p in _pairs_from_matrix(r["standards"][standard]["confusion_matrix"])]
        unrated = sum(r["standards"][standard]["providers"] - r["standards"][standard]["rated"] for r in results)
        pooled[standard] = score([*pairs, *[("Good", None)] * unrated])
    everything = [
        pair for r in results for s in standards for pair in _pairs_from_matrix(r["standards"][s]["confusion_matrix"])
    ]
    unrated = sum(r["all_standards"]["providers"] - r["all_standards"]["rated"] for r in results)
    return {
        "seeds": [r["seed"] for r in results],
        "rule_version": versions.pop(),
        "per_seed": {str(r["seed"]): r["all_standards"] for r in results},
        "standards": pooled,
        "all_standards": score([*everything, *[("Good", None)] * unrated]),
    }


def render_combined_markdown(combined: dict) -> str:
    seeds = ", ".join(str(s) for s in combined["seeds"])
    body = render_markdown({**combined, "seed": seeds}).splitlines()
    body[0] = f"# Calibration on held-out seeds ({seeds}), pooled"
    lines = [
        *body[:4],
        "Each seed on its own:",
        "",
        "| seed | agreement | within one band | weighted kappa |",
        "|---|---|---|---|",
    ]
    for seed, s in combined["per_seed"].items():
        lines.append(f"| {seed} | {s['agreement']} | {s['within_one_band']} | {s['weighted_kappa']} |")
    lines += ["", "Pooled over the seeds:", "", *body[4:]]
    return "\n".join(lines) + "\n"


def write_combined(combined: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "held-out.json", out_dir / "held-out.md"
    json_path.write_text(json.dumps(combined, indent=2, sort_keys=True) + "\n")
    md_path.write_text(render_combined_markdown(combined))
    return json_path, md_path
