"""Governance: policy register, premises audits, risk register, strategic board attendance and audit or
inspection actions, sent quarterly as file drops (each file a register snapshot at the quarter end)."""

from __future__ import annotations

from probation_evidence.sources.contracts.base import PROVIDER, Contract, Field

BOARDS = (
    "Local Criminal Justice Board",
    "Community Safety Partnership",
    "Safeguarding Adults Board",
    "Safeguarding Children Partnership",
    "MAPPA Strategic Management Board",
    "Reducing Reoffending Board",
    "Health and Wellbeing Board",
)
RISK_STATUSES = ("open", "closed")
ACTION_ORIGINS = ("inspection", "internal_audit", "serious_further_offence_review")

QUARTER = Field(
    "quarter_end_date",
    "date",
    "Quarter end date the register snapshot describes.",
    is_period=True,
    aliases=("As At", "As At Date", "Quarter End", "Snapshot Date"),
)

POLICIES = Contract(
    source="governance",
    entity="policies",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=28,
    description="The policy register at the quarter end: each policy, its owner and its review dates.",
    key=("policy_id", "quarter_end_date"),
    date_order=(("last_review_date", "next_review_date"),),
    fields=(
        Field("policy_id", "text", "Policy reference.", aliases=("Policy ID", "Policy Ref", "Document ID")),
        PROVIDER,
        Field("title", "text", "Policy title.", aliases=("Policy Title", "Policy Name", "Document")),
        Field(
            "owner_role", "text", "Role accountable for the policy.", aliases=("Owner", "Policy Owner", "Owner Role")
        ),
        Field(
            "last_review_date",
            "date",
            "Date the policy was last reviewed or approved.",
            not_after_period=True,
            aliases=("Last Reviewed", "Date Last Reviewed", "Review Date"),
        ),
        Field(
            "next_review_date",
            "date",
            "Date the next review is due; a policy is out of date once this has passed.",
            aliases=("Next Review", "Next Review Due", "Review Due"),
        ),
        QUARTER,
    ),
)

PREMISES_AUDITS = Contract(
    source="governance",
    entity="premises_audits",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=28,
    description="The latest accessibility and health-and-safety audit of each office site, at the quarter end.",
    key=("site_id", "quarter_end_date"),
    fields=(
        Field("site_id", "text", "Estates identifier of the office site.", aliases=("Site ID", "Site Ref", "Building")),
        PROVIDER,
        Field("pdu_code", "text", "PDU the site serves.", references="pdu", aliases=("PDU", "PDU Code")),
        Field(
            "audit_date",
            "date",
            "Date of the latest audit.",
            not_after_period=True,
            aliases=("Audit Date", "Date of Audit", "Inspected On"),
        ),
        Field(
            "is_accessible",
            "boolean",
            "The site passed the accessibility audit.",
            aliases=("Accessible", "Accessibility Pass", "Accessibility"),
        ),
        Field(
            "is_safe",
            "boolean",
            "The site passed the health, safety and security audit.",
            aliases=("Safe", "Safety Pass", "H&S Pass"),
        ),
        QUARTER,
    ),
)

RISKS = Contract(
    source="governance",
    entity="risks",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=28,
    description="The corporate risk register at the quarter end: open risks and those closed in the last year.",
    key=("risk_id", "quarter_end_date"),
    date_order=(("opened_date", "last_reviewed_date"),),
    fields=(
        Field("risk_id", "text", "Risk reference.", aliases=("Risk ID", "Risk Ref", "Ref")),
        PROVIDER,
        Field("title", "text", "Short description of the risk.", aliases=("Risk", "Risk Title", "Description")),
        Field(
            "score",
            "integer",
            "Current risk score, likelihood times impact (1 to 25).",
            minimum=1,
            maximum=25,
            aliases=("Risk Score", "Rating", "Current Score"),
        ),
        Field(
            "opened_date",
            "date",
            "Date the risk was added to the register.",
            not_after_period=True,
            aliases=("Date Opened", "Date Raised", "Opened"),
        ),
        Field(
            "last_reviewed_date",
            "date",
            "Date of the latest review; empty if never reviewed.",
            required=False,
            not_after_period=True,
            aliases=("Last Reviewed", "Date Last Reviewed", "Review Date"),
        ),
        Field("status", "text", "Open or closed.", allowed=RISK_STATUSES, aliases=("Status", "Risk Status")),
        QUARTER,
    ),
)

BOARD_MEETINGS = Contract(
    source="governance",
    entity="board_meetings",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=28,
    description="Meetings of external strategic boards held in the quarter, and whether the provider attended.",
    key=("meeting_id", "quarter_end_date"),
    fields=(
        Field("meeting_id", "text", "Identifier of one board meeting.", aliases=("Meeting ID", "Meeting Ref")),
        PROVIDER,
        Field(
            "board_name",
            "text",
            "The board or partnership, with the local area it covers.",
            aliases=("Board", "Board Name", "Partnership", "Forum"),
        ),
        Field(
            "meeting_date",
            "date",
            "Date of the meeting.",
            not_after_period=True,
            aliases=("Meeting Date", "Date of Meeting", "Date"),
        ),
        Field(
            "is_attended",
            "boolean",
            "The provider was represented at the meeting.",
            aliases=("Attended", "Represented", "Probation Attended"),
        ),
        QUARTER,
    ),
)

AUDIT_ACTIONS = Contract(
    source="governance",
    entity="audit_actions",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=28,
    description="Actions from inspections, internal audits and serious further offence reviews due in the 12 months "
    "to the quarter end or still open, with their closure date.",
    key=("action_id", "quarter_end_date"),
    fields=(
        Field("action_id", "text", "Action reference.", aliases=("Action ID", "Action Ref", "Ref")),
        PROVIDER,
        Field(
            "origin",
            "text",
            "Where the action came from: an inspection, an internal audit or a serious further offence review.",
            allowed=ACTION_ORIGINS,
            aliases=("Origin", "Source", "Raised By"),
        ),
        Field("due_date", "date", "Date the action is due to be closed.", aliases=("Due Date", "Target Date", "Due")),
        Field(
            "closed_date",
            "date",
            "Date the action was closed; empty while open.",
            required=False,
            not_after_period=True,
            aliases=("Date Closed", "Closed", "Completion Date"),
        ),
        QUARTER,
    ),
)

CONTRACTS = (POLICIES, PREMISES_AUDITS, RISKS, BOARD_MEETINGS, AUDIT_ACTIONS)
