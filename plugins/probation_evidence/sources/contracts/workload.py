"""Workload Management Tool (WMT): a weekly file per provider, one row per case-holding practitioner.

WMT arithmetic, as providers compute it: available points = nominal target (2,176) x contracted hours / 37 x
(contracted hours - reduction hours) / contracted hours; capacity % = total points / available points x 100.
Above 110% is red; over 110% for 4 consecutive weeks is "excessive".
"""

from __future__ import annotations

from probation_evidence.sources.contracts.base import GRADES, Contract, Field

NOMINAL_TARGET_POINTS = 2176
FULL_TIME_HOURS = 37.0

WEEKLY_CASELOAD = Contract(
    source="workload",
    entity="weekly_caseload",
    version="1.0",
    transport="file",
    frequency="weekly",
    due_days=7,
    description=(
        "The weekly WMT return: one row per case-holding practitioner (PO, PSO, PQiP) in post at the end of the"
        " week, with cases held, workload points and capacity. Staff ids are the HR system's, so the return"
        " joins to staffing."
    ),
    key=("staff_id", "week_ending_date"),
    fields=(
        Field(
            "provider_id",
            "text",
            "Region code of the provider (e.g. N07).",
            references="provider",
            aliases=("Region", "Region Code", "Provider"),
        ),
        Field(
            "staff_id",
            "text",
            "Pseudonymised staff identifier, as in the staffing system; never a name.",
            aliases=("Practitioner ID", "Staff Ref", "Staff Reference", "Officer ID"),
        ),
        Field(
            "pdu_code",
            "text",
            "Probation delivery unit the practitioner works in.",
            references="pdu",
            aliases=("PDU", "Delivery Unit", "LDU"),
        ),
        Field(
            "grade",
            "text",
            "Practitioner grade.",
            allowed=GRADES,
            aliases=("Practitioner Grade", "Job Grade", "Role"),
        ),
        Field(
            "week_ending_date",
            "date",
            "The Sunday that ends the week the return describes.",
            is_period=True,
            aliases=("Week Ending", "Week End", "W/E Date", "Week Ending Sunday"),
        ),
        Field(
            "active_cases",
            "integer",
            "Cases held at the end of the week (community and licence).",
            minimum=0,
            maximum=500,
            aliases=("Caseload", "Cases Held", "No. of Cases", "Total Cases"),
        ),
        Field(
            "high_tier_cases",
            "integer",
            "Cases held in the highest risk/need tiers (A and B); at most active_cases.",
            minimum=0,
            maximum=500,
            aliases=("Tier A/B Cases", "High Tier", "High Risk Cases"),
        ),
        Field(
            "total_points",
            "integer",
            "Workload points of all cases and other work held, as weighted by WMT.",
            minimum=0,
            maximum=50000,
            aliases=("Points", "Total WMT Points", "Workload Points"),
        ),
        Field(
            "contracted_hours",
            "numeric",
            "Contracted weekly hours (37 for full time).",
            minimum=0,
            maximum=48,
            min_exclusive=True,
            aliases=("Hours", "Contracted Hrs", "Weekly Hours"),
        ),
        Field(
            "reduction_hours",
            "numeric",
            "Weekly hours taken out of case work (training, union duties, protected caseload...).",
            minimum=0,
            maximum=48,
            aliases=("Reductions", "Reduction Hrs", "Hours Reduced"),
        ),
        Field(
            "available_points",
            "integer",
            "Points the practitioner can hold: 2176 x hours / 37 x (hours - reductions) / hours.",
            minimum=0,
            maximum=5000,
            aliases=("Capacity Points", "Available Pts", "Target Points"),
        ),
        Field(
            "capacity_pct",
            "numeric",
            "Capacity used: total_points / available_points x 100; above 110 is red.",
            minimum=0,
            maximum=2000,
            aliases=("Capacity %", "Capacity Percentage", "Workload %"),
        ),
    ),
)

CONTRACTS = (WEEKLY_CASELOAD,)
