-- Feedback indicators in long format per provider and PDU for each quarter: staff survey (E01-E03,
-- L03, L04), people on probation (V04, V05, I08, L06) and complaints (I09). Agree = response 4 or 5
-- among those who answered the question. Survey respondents who withheld their PDU count towards
-- the provider only. E01 carries its respondents' second moments for a t interval (unit_x).
with

staff_survey as (
    select * from {{ ref('stg_feedback__staff_survey') }}
),

pop_feedback as (
    select * from {{ ref('stg_feedback__pop_feedback') }}
),

complaints as (
    select * from {{ ref('stg_feedback__complaints') }}
),

-- Engagement index per respondent: mean of the engagement items answered, scored 0, 25, 50, 75, 100.
engagement_scores as (
    select
        provider_id,
        pdu_code,
        quarter_end_date,
        response_id,
        batch_id,
        avg((response - 1) * 25.0) as engagement_score
    from staff_survey
    where question_code like 'engagement\_%'
    group by provider_id, pdu_code, quarter_end_date, response_id, batch_id
),

-- Complaints whose 20-working-day (28 calendar days) response deadline fell within the quarter.
complaints_due as (
    select
        *,
        coalesce(responded_date <= received_date + 28, false) as is_answered_on_time
    from complaints
    where received_date + 28 <= quarter_end_date
),

counted as (
    {{ indicator_counts('E01', 'engagement_scores',
        "sum(engagement_score)", "count(*)", 'quarter_end_date', unit_x='engagement_score') }}
    union all
    {{ indicator_counts('E02', 'staff_survey',
        "count(*) filter (where response >= 4)", "count(*)",
        'quarter_end_date', where="question_code = 'workload_manageable'") }}
    union all
    {{ indicator_counts('E03', 'staff_survey',
        "count(*) filter (where response >= 4)", "count(*)",
        'quarter_end_date', where="question_code = 'feel_valued'") }}
    union all
    {{ indicator_counts('L03', 'staff_survey',
        "count(*) filter (where response >= 4)", "count(*)",
        'quarter_end_date', where="question_code = 'understand_vision'") }}
    union all
    {{ indicator_counts('L04', 'staff_survey',
        "count(*) filter (where response >= 4)", "count(*)",
        'quarter_end_date', where="question_code = 'safe_to_raise_concerns'") }}
    union all
    {{ indicator_counts('V04', 'pop_feedback',
        "count(*) filter (where response >= 4)", "count(*)",
        'quarter_end_date', where="question_code = 'services_easy_to_access'") }}
    union all
    {{ indicator_counts('V05', 'pop_feedback',
        "count(*) filter (where response >= 4)", "count(*)",
        'quarter_end_date', where="question_code = 'involved_in_plan'") }}
    union all
    {{ indicator_counts('I08', 'pop_feedback',
        "count(*) filter (where response >= 4)", "count(*)",
        'quarter_end_date', where="question_code = 'treated_fairly'") }}
    union all
    {{ indicator_counts('L06', 'pop_feedback',
        "count(*) filter (where response >= 4)", "count(*)",
        'quarter_end_date', where="question_code = 'overall_satisfied'") }}
    union all
    {{ indicator_counts('I09', 'complaints_due',
        "count(*) filter (where is_answered_on_time)", "count(*)", 'quarter_end_date') }}
),

final as (
    {{ indicator_counts_keyed('counted') }}
)

select * from final
