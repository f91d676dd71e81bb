"""Services: the interventions catalogue, referrals into interventions and the volunteer and mentor
roster, sent quarterly as file drops (each file a snapshot as at the quarter end)."""

from __future__ import annotations

from probation_evidence.sources.contracts.base import PROVIDER, Contract, Field

CATEGORIES = ("universal", "targeted", "specialist")
DELIVERY = ("in_house", "partner")
OUTCOMES = ("completed", "withdrawn", "ongoing", "not_started")
VOLUNTEER_ROLES = ("mentor", "volunteer", "peer_mentor")

QUARTER = Field(
    "quarter_end_date",
    "date",
    "Quarter end date the snapshot describes.",
    is_period=True,
    aliases=("As At", "As At Date", "Quarter End", "Snapshot Date"),
)
INTERVENTION_ID = Field(
    "intervention_id",
    "text",
    "Provider's identifier of an intervention in its catalogue.",
    aliases=("Intervention ID", "Intervention Ref", "Programme ID"),
)

INTERVENTIONS = Contract(
    source="services",
    entity="interventions",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=21,
    description="The provider's catalogue of interventions and services, and which are available at the quarter end.",
    key=("intervention_id", "quarter_end_date"),
    fields=(
        INTERVENTION_ID,
        PROVIDER,
        Field("name", "text", "Name of the intervention.", aliases=("Intervention Name", "Programme", "Title")),
        Field(
            "category",
            "text",
            "Universal (open to all), targeted (by assessed need) or specialist (e.g. sexual or domestic abuse).",
            allowed=CATEGORIES,
            aliases=("Category", "Type", "Intervention Type"),
        ),
        Field(
            "delivery",
            "text",
            "Delivered by the provider itself or by a commissioned partner.",
            allowed=DELIVERY,
            aliases=("Delivered By", "Delivery Model"),
        ),
        Field(
            "pdu_code",
            "text",
            "PDU where it is delivered; empty when region-wide.",
            required=False,
            references="pdu",
            aliases=("PDU", "PDU Code", "Location"),
        ),
        Field(
            "is_available",
            "boolean",
            "Whether it is taking referrals at the quarter end.",
            aliases=("Available", "Currently Available", "Open to Referrals"),
        ),
        QUARTER,
    ),
)

REFERRALS = Contract(
    source="services",
    entity="referrals",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=21,
    description=(
        "Referrals made in the 12 months to the quarter end, with their status at the quarter end. The same "
        "referral appears in successive quarters as it progresses."
    ),
    key=("referral_id", "quarter_end_date"),
    date_order=(("referred_date", "started_date"), ("started_date", "ended_date"), ("referred_date", "ended_date")),
    fields=(
        Field("referral_id", "text", "Referral reference.", aliases=("Referral ID", "Referral Ref", "Ref")),
        PROVIDER,
        Field(
            "pdu_code",
            "text",
            "PDU of the referring practitioner.",
            references="pdu",
            aliases=("PDU", "PDU Code", "Referring PDU"),
        ),
        INTERVENTION_ID,
        Field(
            "referred_date",
            "date",
            "Date of referral.",
            not_after_period=True,
            aliases=("Date Referred", "Referral Date", "Referred On"),
        ),
        Field(
            "started_date",
            "date",
            "Date the person started the intervention; empty if not (yet) started.",
            required=False,
            not_after_period=True,
            aliases=("Date Started", "Start Date", "Commenced"),
        ),
        Field(
            "ended_date",
            "date",
            "Date the referral closed, by completion or withdrawal; empty while open.",
            required=False,
            not_after_period=True,
            aliases=("Completed Date", "End Date", "Date Closed", "Closed On"),
        ),
        Field(
            "outcome",
            "text",
            "Status at the quarter end.",
            allowed=OUTCOMES,
            aliases=("Outcome", "Status", "Referral Status"),
        ),
        QUARTER,
    ),
)

VOLUNTEERS = Contract(
    source="services",
    entity="volunteers",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=21,
    description="Volunteers, mentors and peer mentors on the provider's roster at the quarter end.",
    key=("volunteer_id", "quarter_end_date"),
    fields=(
        Field("volunteer_id", "text", "Pseudonymised volunteer identifier.", aliases=("Volunteer ID", "Mentor ID")),
        PROVIDER,
        Field("pdu_code", "text", "PDU the volunteer works with.", references="pdu", aliases=("PDU", "PDU Code")),
        Field(
            "role",
            "text",
            "Volunteer, mentor or peer mentor (someone with lived experience of probation).",
            allowed=VOLUNTEER_ROLES,
            aliases=("Role", "Volunteer Role", "Volunteer Type"),
        ),
        Field(
            "start_date",
            "date",
            "Date the volunteer joined.",
            not_after_period=True,
            aliases=("Start Date", "Date Joined", "Joined"),
        ),
        Field(
            "is_active",
            "boolean",
            "Active in the quarter (at least one session).",
            aliases=("Active", "Active This Quarter", "Status Active"),
        ),
        QUARTER,
    ),
)

CONTRACTS = (INTERVENTIONS, REFERRALS, VOLUNTEERS)
