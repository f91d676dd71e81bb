"""Staffing (HR) system: a REST API per provider, snapshots as at a date.

Every entity is a snapshot: what the HR system holds at the as-at date, covering the 12 months up to it,
so one extract carries a year of history and successive extracts overlap.
"""

from __future__ import annotations

from probation_evidence.sources.contracts.base import AS_AT, GRADES, PDU, PROVIDER, STAFF_ID, Contract, Field

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

ABSENCE_REASONS = ("mental_health_stress", "musculoskeletal", "infection", "other")
ADJUSTMENT_TYPES = ("equipment", "working_pattern", "workplace", "workload", "other")
SUPERVISION_KINDS = ("supervision", "appraisal")

ABSENCES = Contract(
    source="staffing",
    entity="absences",
    version="1.0",
    transport="api",
    description=(
        "Sickness absence episodes that started in the 12 months to the as-at date, of staff in post when they"
        " started. Days lost are pro rata to FTE, so their sum over average FTE gives days lost per FTE."
    ),
    key=("absence_id", "as_at_date"),
    date_order=(("start_date", "end_date"),),
    fields=(
        Field("absence_id", "text", "Pseudonymised identifier of the absence episode."),
        STAFF_ID,
        PROVIDER,
        PDU,
        Field("start_date", "date", "First day of absence (a working day).", not_after_period=True),
        Field(
            "end_date",
            "date",
            "Last day of absence; null while the absence is still open at the as-at date.",
            required=False,
            not_after_period=True,
        ),
        Field(
            "working_days_lost",
            "numeric",
            "Working days lost in the episode up to the as-at date (or its end), times the person's FTE.",
            minimum=0,
            maximum=366,
        ),
        Field(
            "reason",
            "text",
            "Reason category from the fit note or self-certificate; mental_health_stress covers stress,"
            " depression and anxiety.",
            allowed=ABSENCE_REASONS,
        ),
        AS_AT,
    ),
)

TRAINING_COMPLETIONS = Contract(
    source="staffing",
    entity="training_completions",
    version="1.0",
    transport="api",
    description=(
        "Training requirements and completions of staff: one row per mandatory course falling due in the 12"
        " months to the as-at date while the person was in post (INDUCTION for new starters, due 12 weeks after"
        " starting), and one row per optional course session booked in that period."
    ),
    key=("staff_id", "course_code", "due_date", "as_at_date"),
    fields=(
        STAFF_ID,
        PROVIDER,
        Field(
            "course_code",
            "text",
            "Course code from the provider's learning catalogue; INDUCTION is the new-starter induction programme.",
        ),
        Field("is_mandatory", "boolean", "True for mandatory training (including induction), false for optional."),
        Field(
            "due_date",
            "date",
            "Deadline of a mandatory course; for an optional course, the date of the booked session.",
        ),
        Field(
            "completed_date",
            "date",
            "Date the course was completed; null if not completed by the as-at date (it may precede due_date).",
            required=False,
            not_after_period=True,
        ),
        Field(
            "hours",
            "numeric",
            "Learning hours of the course; count them as training received only when completed.",
            minimum=0,
            maximum=200,
        ),
        AS_AT,
    ),
)

SUPERVISIONS = Contract(
    source="staffing",
    entity="supervisions",
    version="1.0",
    transport="api",
    description=(
        "Recorded supervision sessions and annual appraisals held in the 12 months to the as-at date with staff"
        " then in post."
    ),
    key=("staff_id", "supervision_date", "kind", "as_at_date"),
    fields=(
        STAFF_ID,
        PROVIDER,
        Field("supervision_date", "date", "Date the session was held.", not_after_period=True),
        Field(
            "kind",
            "text",
            "supervision: a one-to-one supervision session; appraisal: the annual performance appraisal.",
            allowed=SUPERVISION_KINDS,
        ),
        AS_AT,
    ),
)

REASONABLE_ADJUSTMENTS = Contract(
    source="staffing",
    entity="reasonable_adjustments",
    version="1.0",
    transport="api",
    description=(
        "Workplace reasonable adjustments requested in the 12 months to the as-at date by staff then in post,"
        " and when each was put in place."
    ),
    key=("adjustment_id", "as_at_date"),
    date_order=(("requested_date", "in_place_date"),),
    fields=(
        Field("adjustment_id", "text", "Pseudonymised identifier of the adjustment request."),
        STAFF_ID,
        PROVIDER,
        Field("adjustment_type", "text", "What kind of adjustment was asked for.", allowed=ADJUSTMENT_TYPES),
        Field("requested_date", "date", "Date the adjustment was requested.", not_after_period=True),
        Field(
            "in_place_date",
            "date",
            "Date the adjustment was in place; null if not in place by the as-at date.",
            required=False,
            not_after_period=True,
        ),
        AS_AT,
    ),
)

CONTRACTS = (ESTABLISHMENT, STAFF, ABSENCES, TRAINING_COMPLETIONS, SUPERVISIONS, REASONABLE_ADJUSTMENTS)
