"""ICT: a REST API per provider (service desk, monitoring and MI log), snapshots as at a date.

Like staffing, every entity is a snapshot: what the systems hold at the as-at date about the 12 months up to
it (`as_at_date` is the period), so one extract carries a year of daily availability, incidents, monthly
completeness returns and the MI publication log.
"""

from __future__ import annotations

from probation_evidence.sources.contracts.base import AS_AT, PDU, PROVIDER, STAFF_ID, Contract, Field

SYSTEMS = ("case_management", "assessment", "workload", "email")
INCIDENT_SYSTEMS = (*SYSTEMS, "network", "end_user_device")
MI_REPORTS = ("performance_summary", "workload_summary", "sickness_absence", "quality_assurance")

SYSTEM_AVAILABILITY = Contract(
    source="ict",
    entity="system_availability",
    version="1.0",
    transport="api",
    description=(
        "Scheduled and available minutes per business system per day, for the 12 months to the as-at date."
        " available_minutes never exceeds scheduled_minutes (a cross-field rule checked in staging, not here)."
    ),
    key=("provider_id", "system_name", "service_date", "as_at_date"),
    fields=(
        PROVIDER,
        Field("system_name", "text", "The business system.", allowed=SYSTEMS),
        Field("service_date", "date", "The day measured.", not_after_period=True),
        Field(
            "scheduled_minutes",
            "integer",
            "Minutes the system was scheduled to be available that day (service hours less planned maintenance).",
            minimum=0,
            maximum=1440,
        ),
        Field(
            "available_minutes",
            "integer",
            "Minutes of the scheduled time the system was actually available (unplanned outages excluded).",
            minimum=0,
            maximum=1440,
        ),
        AS_AT,
    ),
)

ICT_INCIDENTS = Contract(
    source="ict",
    entity="ict_incidents",
    version="1.0",
    transport="api",
    description="Service-desk incidents opened in the 12 months to the as-at date, with priority and resolution.",
    key=("incident_id", "as_at_date"),
    date_order=(("opened_at", "resolved_at"),),
    fields=(
        Field("incident_id", "text", "Service-desk incident reference."),
        PROVIDER,
        Field("system_name", "text", "System or service affected.", allowed=INCIDENT_SYSTEMS),
        Field(
            "priority",
            "integer",
            "Priority 1 (critical: a service down for many users) to 4 (low: one user, workaround exists).",
            minimum=1,
            maximum=4,
        ),
        Field("opened_at", "timestamp", "When the incident was logged (UTC).", not_after_period=True),
        Field(
            "resolved_at",
            "timestamp",
            "When the incident was resolved (UTC); null if still open at the end of the as-at date.",
            required=False,
            not_after_period=True,
        ),
        AS_AT,
    ),
)

REMOTE_ACCESS = Contract(
    source="ict",
    entity="remote_access",
    version="1.0",
    transport="api",
    description="Per staff member in post at the as-at date: whether they have a work device and remote access.",
    key=("staff_id", "as_at_date"),
    fields=(
        STAFF_ID,
        PROVIDER,
        PDU,
        Field("has_device", "boolean", "The person has been issued a working laptop or equivalent device."),
        Field(
            "has_remote_access", "boolean", "The person can reach the case management system from outside the office."
        ),
        AS_AT,
    ),
)

RECORD_COMPLETENESS = Contract(
    source="ict",
    entity="record_completeness",
    version="1.0",
    transport="api",
    description=(
        "Monthly record-completeness returns per PDU for the 12 complete months to the as-at date: open cases and"
        " how many have diversity (protected characteristics) data recorded."
    ),
    key=("provider_id", "pdu_code", "month_end_date", "as_at_date"),
    fields=(
        PROVIDER,
        PDU,
        Field("month_end_date", "date", "Last day of the month the return describes.", not_after_period=True),
        Field("cases", "integer", "Open cases at the month end.", minimum=0, maximum=1_000_000),
        Field(
            "cases_with_diversity_recorded",
            "integer",
            "Open cases whose diversity data is fully recorded; at most cases.",
            minimum=0,
            maximum=1_000_000,
        ),
        AS_AT,
    ),
)

MI_REPORTS_LOG = Contract(
    source="ict",
    entity="mi_reports",
    version="1.0",
    transport="api",
    description=(
        "Publication log of the monthly management-information reports for the 12 complete months to the as-at"
        " date: when each report for each month was published, if it has been."
    ),
    key=("report_id", "as_at_date"),
    date_order=(("period_end_date", "published_date"),),
    fields=(
        Field("report_id", "text", "Identifier of one report for one period."),
        PROVIDER,
        Field("report_name", "text", "Which regular MI report.", allowed=MI_REPORTS),
        Field("period_end_date", "date", "Last day of the month the report covers.", not_after_period=True),
        Field(
            "published_date",
            "date",
            "Date the report was published to managers; null if not yet published at the as-at date.",
            required=False,
            not_after_period=True,
        ),
        AS_AT,
    ),
)

CONTRACTS = (SYSTEM_AVAILABILITY, ICT_INCIDENTS, REMOTE_ACCESS, RECORD_COMPLETENESS, MI_REPORTS_LOG)
