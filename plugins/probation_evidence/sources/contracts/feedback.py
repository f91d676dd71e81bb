"""Feedback: staff survey, people-on-probation feedback and complaints, exported quarterly by survey and
case-management tools as CSV or XLSX file drops. Each file covers one quarter, named by its end date."""

from __future__ import annotations

from probation_evidence.sources.contracts.base import PDU, PROVIDER, Contract, Field

#: Staff survey items. The five `engagement_*` items are the People Survey engagement index questions.
STAFF_QUESTIONS = (
    "engagement_proud",
    "engagement_recommend",
    "engagement_attachment",
    "engagement_inspires",
    "engagement_motivates",
    "workload_manageable",
    "feel_valued",
    "understand_vision",
    "safe_to_raise_concerns",
)
POP_QUESTIONS = ("services_easy_to_access", "treated_fairly", "involved_in_plan", "overall_satisfied")
COMPLAINT_CATEGORIES = ("staff_conduct", "supervision_arrangements", "accommodation", "communication", "other")

QUARTER = Field(
    "quarter_end_date",
    "date",
    "Last day of the quarter the file covers.",
    is_period=True,
    aliases=("Quarter End", "Period End", "Quarter Ending"),
)
LIKERT = Field(
    "response",
    "integer",
    "Answer on a five-point scale: 1 strongly disagree, 2 disagree, 3 neither, 4 agree, 5 strongly agree.",
    minimum=1,
    maximum=5,
    aliases=("Answer", "Score", "Response Value"),
)

STAFF_SURVEY = Contract(
    source="feedback",
    entity="staff_survey",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=21,
    description=(
        "Quarterly staff pulse survey: one row per respondent per question, anonymous. Respondents may "
        "withhold their PDU."
    ),
    key=("response_id", "question_code", "quarter_end_date"),
    fields=(
        Field(
            "response_id",
            "text",
            "Survey tool's identifier of one respondent's submission; not linkable to staff records.",
            aliases=("Response ID", "RespondentID", "Respondent"),
        ),
        PROVIDER,
        Field(
            "pdu_code",
            "text",
            "PDU the respondent chose to give; empty when withheld.",
            required=False,
            references="pdu",
            aliases=PDU.aliases,
        ),
        Field(
            "question_code",
            "text",
            "Survey item: the engagement index items, workload, feeling valued, vision and raising concerns.",
            allowed=STAFF_QUESTIONS,
            aliases=("Question", "Question ID", "Item"),
        ),
        LIKERT,
        QUARTER,
    ),
)

POP_FEEDBACK = Contract(
    source="feedback",
    entity="pop_feedback",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=21,
    description="Feedback from people on probation: one row per respondent per question, in the quarter.",
    key=("response_id", "question_code", "quarter_end_date"),
    fields=(
        Field(
            "response_id",
            "text",
            "Identifier of one person's feedback submission; not linkable to case records.",
            aliases=("Response ID", "RespondentID", "Feedback ID"),
        ),
        PROVIDER,
        PDU,
        Field(
            "question_code",
            "text",
            "Feedback item: ease of access to services, fair treatment, involvement in plan, overall.",
            allowed=POP_QUESTIONS,
            aliases=("Question", "Question ID", "Item"),
        ),
        LIKERT,
        QUARTER,
    ),
)

COMPLAINTS = Contract(
    source="feedback",
    entity="complaints",
    version="1.0",
    transport="file",
    frequency="quarterly",
    due_days=21,
    description=(
        "Complaints received in the quarter, with the date of the (stage one) response where sent by the quarter end."
    ),
    key=("complaint_id", "quarter_end_date"),
    date_order=(("received_date", "responded_date"),),
    fields=(
        Field("complaint_id", "text", "Complaint reference.", aliases=("Complaint Ref", "Complaint ID", "Ref")),
        PROVIDER,
        PDU,
        Field(
            "category",
            "text",
            "What the complaint is about.",
            allowed=COMPLAINT_CATEGORIES,
            aliases=("Complaint Category", "Type"),
        ),
        Field(
            "received_date",
            "date",
            "Date the complaint was received.",
            not_after_period=True,
            aliases=("Date Received", "Received", "Received On"),
        ),
        Field(
            "responded_date",
            "date",
            "Date the response was sent; empty while unanswered.",
            required=False,
            not_after_period=True,
            aliases=("Date Responded", "Response Date", "Responded On"),
        ),
        QUARTER,
    ),
)

CONTRACTS = (STAFF_SURVEY, POP_FEEDBACK, COMPLAINTS)
