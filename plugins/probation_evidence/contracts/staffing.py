"""Staffing (HR) system: a REST API per provider, snapshots as at a date."""

from __future__ import annotations

from probation_evidence.contracts.base import Contract, Field

GRADES = ("PO", "PSO", "SPO", "PQiP")

PROVIDER = Field("provider_id", "text", "Region code of the provider (e.g. N07).", references="provider")
PDU = Field("pdu_code", "text", "Probation delivery unit code, within the provider.", references="pdu")
AS_AT = Field("as_at_date", "date", "Date the extract describes.", is_period=True)
STAFF_ID = Field("staff_id", "text", "Pseudonymised staff identifier; never a name.")

ESTABLISHMENT = Contract(
    source="staffing",
    entity="establishment",
    version="1.0",
    transport="api",
    description="Funded posts (FTE) by probation delivery unit and grade, as at a date.",
    key=("provider_id", "pdu_code", "grade", "as_at_date"),
    fields=(
        PROVIDER,
        PDU,
        Field("grade", "text", "Practitioner grade.", allowed=GRADES),
        Field("funded_fte", "numeric", "Funded full-time equivalent.", minimum=0, maximum=2000),
        AS_AT,
    ),
)

STAFF = Contract(
    source="staffing",
    entity="staff",
    version="1.0",
    transport="api",
    description="Staff in post at any time in the 12 months to the as-at date, pseudonymised.",
    key=("staff_id", "as_at_date"),
    date_order=(("start_date", "leave_date"),),
    fields=(
        STAFF_ID,
        PROVIDER,
        PDU,
        Field("team_code", "text", "Team within the PDU.", required=False),
        Field("grade", "text", "Practitioner grade.", allowed=GRADES),
        Field("fte", "numeric", "Contracted FTE.", minimum=0, maximum=1, min_exclusive=True),
        Field("start_date", "date", "Start in post.", not_after_period=True),
        Field("leave_date", "date", "Leaving date, if left or notice given.", required=False),
        AS_AT,
    ),
)

CONTRACTS = (ESTABLISHMENT, STAFF)
