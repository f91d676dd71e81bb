"""Fabricated evidence-pack content for the render and browser tests: no database needed.

`large_context()` is the size of the largest provider's pack (about 45 indicators over the four standards,
each with a year of trend, every provider in the period, the provider's PDUs and funnel plots), with every
optional field filled, so layout and accessibility are checked on the pack at its worst. Values come from a
fixed arithmetic sequence: the same call always builds the same context.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from probation_evidence.packs.model import (
    CharacteristicRef,
    EvidenceLine,
    FunnelLimitValue,
    FunnelPointValue,
    FunnelView,
    PackContext,
    PduValue,
    PeerProvider,
    PeerValue,
    PreviousValue,
    SeriesPoint,
    SourceBatch,
    StandardSection,
    SubmissionIssue,
)

HOSTILE = "<script>alert(1)</script>"
STANDARDS = {
    "1.1": ("Leadership", "The leadership of the organisation supports and promotes the delivery of a high-quality, "
            "personalised and responsive service for all service users."),
    "1.2": ("Staff", "Staff within the organisation are empowered to deliver a high-quality, personalised and "
            "responsive service for all service users."),
    "1.3": ("Services", "A comprehensive range of high-quality services is in place, supporting a tailored and "
            "responsive service for all service users."),
    "1.4": ("Information and facilities", "Timely and relevant information is available and appropriate "
            "facilities are in place to support a high-quality, personalised and responsive approach for all "
            "service users."),
}  # fmt: skip
#: How many indicators each standard gets in the large pack (45 in all, like the largest demo provider).
LARGE_COUNTS = {"1.1": 6, "1.2": 22, "1.3": 7, "1.4": 10}
PROVIDERS = [(f"N{n:02d}", name) for n, name in enumerate(
    ["North East", "North West", "Yorkshire and the Humber", "Greater Manchester", "East Midlands",
     "West Midlands", "London", "Kent, Surrey and Sussex", "South West", "South Central", "East of England",
     "Wales"], start=1)]  # fmt: skip
FOCUS = "N07"
PERIODS = (date(2025, 12, 31), date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30))
COMPARISONS = ("worse", "similar", "better", "similar", "not compared", "similar")
BANDS = ("Good", "Requires improvement", "Outstanding", "Inadequate", None)
TRENDS = ("improving", "worsening", "stable", "not enough data")
CHANGES = ("improved", "worsened", "no significant change", "not comparable")
LONG_DEFINITION = (
    "Share of practitioners whose weighted caseload, from the workload measurement tool, was above 110% of "
    "their capacity at the end of the period, among practitioners with a capacity recorded"
)


def _wave(index: int, step: int, spread: float = 0.3) -> float:
    """A value in [0.35, 0.35 + spread) that varies with index and step, without randomness."""
    return 0.35 + spread * (((index * 37 + step * 11) % 97) / 97)


def _characteristics(standard_id: str, index: int) -> list[CharacteristicRef]:
    text = (
        "Staffing levels are planned and reviewed to meet the changing demands and profiles of service users, "
        "while the workloads of practitioners, middle managers and administrative staff are actively managed."
    )
    return [
        CharacteristicRef(f"{standard_id}-good-{index:02d}", "Good", "workloads \u2026 actively managed", text),
        CharacteristicRef(
            f"{standard_id}-inadequate-{index:02d}",
            "Inadequate",
            "substantial or frequent staff shortages",
            "There are substantial or frequent staff shortages, impacting upon workloads and the quality of the "
            "service.",
        ),
    ]


def _funnel(index: int, value: float, unit_ids: list[tuple[str, str]], level: str) -> FunnelView:
    positions = ("within limits", "worse (95%)", "better (99.8%)", "within limits", "better (95%)", "worse (99.8%)")
    points = tuple(
        FunnelPointValue(
            unit_id=uid,
            label=f"{uid} {name}",
            denominator=float(80 + (n * 53 + index * 7) % 400),
            value=value if uid == FOCUS else _wave(index, n),
            position=positions[(n + index) % len(positions)],
            is_focus=uid == FOCUS,
        )
        for n, (uid, name) in enumerate(unit_ids)
    )
    limits = tuple(
        FunnelLimitValue(float(d), 0.5 - 1.0 / d**0.5, 0.5 + 1.0 / d**0.5, 0.5 - 1.5 / d**0.5, 0.5 + 1.5 / d**0.5)
        for d in (60, 100, 150, 220, 320, 480)
    )
    return FunnelView(
        unit_level=level,
        target=0.5,
        points=points,
        limits=limits,
        is_overdispersed=index % 2 == 0,
        adjustment_method="multiplicative (phi)" if index % 2 == 0 else "none",
        funnel_method="exact binomial limits around the national proportion",
    )


def evidence_line(standard_id: str, index: int, *, full: bool = True, **overrides) -> EvidenceLine:
    """One indicator's line; `full` fills every optional field (trend test, peers, previous, funnels)."""
    value = _wave(index, 0)
    comparison = COMPARISONS[index % len(COMPARISONS)]
    name = f"Practitioners over capacity, measure {index}" if index % 5 else f"Indicator {index} {HOSTILE}"
    fields = {
        "indicator_id": f"X{index:02d}",
        "indicator_name": name,
        "unit": "%",
        "polarity": ("down", "up", "none")[index % 3],
        "value": value,
        "numerator": round(value * 400, 1),
        "denominator": 400.0,
        "lower_95": value - 0.04,
        "upper_95": value + 0.04,
        "national_value": 0.5,
        "comparison": comparison,
        "indicative_band": BANDS[index % len(BANDS)],
        "definition": LONG_DEFINITION + (f" ({HOSTILE})" if index == 3 else "."),
        "characteristics": _characteristics(standard_id, index),
        "period_end_date": PERIODS[-1],
        "has_late_or_missing_data": index % 7 == 0,
        "method": "Proportion with Wilson score limits; compared with national at 95% and 99.8%.",
        "disclosure_rule": "Suppressed when the denominator is below 10 or the numerator between 1 and 4.",
        "trend": tuple(
            SeriesPoint(
                period,
                _wave(index, step),
                _wave(index, step) - 0.05,
                _wave(index, step) + 0.05,
                0.5,
                is_suppressed=False,
            )
            for step, period in enumerate(PERIODS)
        ),  # fmt: skip
        "peers": tuple(
            PeerValue(pid, pname, None if n == 11 else _wave(index, n + 1), None, None, is_suppressed=n == 11)
            if pid != FOCUS
            else PeerValue(pid, pname, value, value - 0.04, value + 0.04)
            for n, (pid, pname) in enumerate(PROVIDERS)
        ),
        "pdus": tuple(
            PduValue(
                f"{FOCUS}-{n:02d}",
                _wave(index, n + 3),
                _wave(index, n + 3) - 0.06,
                _wave(index, n + 3) + 0.06,
                COMPARISONS[(index + n) % len(COMPARISONS)],
            )
            for n in range(1, 19)
        ),  # fmt: skip
    }
    if full:
        fields.update(
            lower_998=value - 0.07,
            upper_998=value + 0.07,
            comparison_998="similar" if comparison != "not compared" else None,
            interval_method="Wilson score",
            trend_direction=TRENDS[index % len(TRENDS)],
            trend_p_value=0.0004 if index % 4 == 0 else 0.21,
            trend_method="Mann-Kendall test over the latest periods",
            trend_points=len(PERIODS),
            peer_value=0.47,
            peer_count=5,
            peer_comparison=COMPARISONS[(index + 1) % len(COMPARISONS)],
            previous=PreviousValue("INS-2023-N07", date(2023, 6, 30), value - 0.03, CHANGES[index % len(CHANGES)]),
            funnel=_funnel(index, value, PROVIDERS, "provider"),
            pdu_funnel=_funnel(index + 1, value, [(f"{FOCUS}-{n:02d}", "PDU") for n in range(1, 19)], "pdu")
            if index % 3 == 0
            else None,
        )
    blank = {"value": None, "numerator": None, "denominator": None, "lower_95": None, "upper_95": None,
             "indicative_band": None, "comparison": "not compared"}  # fmt: skip
    if index % 11 == 10:  # a suppressed line, and a line with no value, as real packs have
        fields.update(blank, suppression_reason="numerator between 1 and 4")
    elif index % 13 == 12:
        fields.update(blank)
    fields.update(overrides)
    return EvidenceLine(**fields)


def context(evidence_by_standard: dict[str, list[EvidenceLine]], **overrides) -> PackContext:
    fields = {
        "provider_id": FOCUS,
        "provider_name": f"London {HOSTILE}",
        "inspection_id": "INS-2026-N07",
        "inspection_type": "Domain one",
        "fieldwork_start_date": date(2026, 11, 2),
        "fieldwork_end_date": date(2026, 11, 13),
        "as_at_date": PERIODS[-1],
        "pack_version": "1",
        "standards": [
            StandardSection(
                sid,
                name,
                statement,
                evidence_by_standard.get(sid, []),
                indicative_rating="Requires improvement" if evidence_by_standard.get(sid) else None,
                mean_points=1.45 if evidence_by_standard.get(sid) else None,
                rule_version="2026.1",
            )
            for sid, (name, statement) in STANDARDS.items()
        ],  # fmt: skip
        "batches": [
            SourceBatch(
                f"batch-{n:04d}-{'a' * 40}",
                "workload",
                f"weekly_caseload_{n}",
                5400 + n,
                n % 3,
                datetime(2026, 10, 1, 6, n, tzinfo=UTC),
            )
            for n in range(40)
        ],  # fmt: skip
        "submission_issues": (
            SubmissionIssue("workload", "weekly_caseload", date(2026, 9, 27), date(2026, 10, 4), "missing", None, None),
            SubmissionIssue(
                "staffing",
                "establishment",
                date(2026, 6, 30),
                date(2026, 7, 14),
                "late",
                datetime(2026, 7, 30, 9, 0, tzinfo=UTC),
                f"resubmitted {HOSTILE}",
            ),
        ),  # fmt: skip
        "peer_group": tuple(
            PeerProvider(pid, name, rank, 0.1 * rank) for rank, (pid, name) in enumerate(PROVIDERS[:5], start=1)
        ),
        "disclosure_note": f"Counts below 5 are withheld; other counts are rounded to the nearest 5 {HOSTILE}.",
    }
    fields.update(overrides)
    return PackContext(**fields)


def large_context(counts: dict[str, int] | None = None, **overrides) -> PackContext:
    """The largest pack: 45 indicators with every chart and every optional field."""
    counts = LARGE_COUNTS if counts is None else counts
    evidence: dict[str, list[EvidenceLine]] = {}
    index = 1
    for sid, count in counts.items():
        evidence[sid] = []
        for _ in range(count):
            evidence[sid].append(evidence_line(sid, index))
            index += 1
    return context(evidence, **overrides)
