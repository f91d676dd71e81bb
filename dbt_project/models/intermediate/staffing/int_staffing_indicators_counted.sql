-- Staffing indicators (S01-S07, W06, T01-T04, T06, E04) in long format: numerator and denominator
-- per provider (and PDU where the source has one) at each staffing as-at date.
-- In post at a date d: start_date <= d and (leave_date is null or leave_date > d).
-- W06 carries the second moments of its staff in post for a delta-method interval (unit_x, unit_y).
with

staff as (
    select * from {{ ref('stg_staffing__staff') }}
),

establishment as (
    select * from {{ ref('stg_staffing__establishment') }}
),

absences as (
    select * from {{ ref('stg_staffing__absences') }}
),

supervisions as (
    select * from {{ ref('stg_staffing__supervisions') }}
),

training_completions as (
    select * from {{ ref('stg_staffing__training_completions') }}
),

reasonable_adjustments as (
    select * from {{ ref('stg_staffing__reasonable_adjustments') }}
),

supervision_history as (
    select
        provider_id,
        staff_id,
        as_at_date,
        bool_or(kind = 'supervision' and supervision_date > as_at_date - 42) as has_supervision_in_6_weeks,
        bool_or(
            kind = 'appraisal' and supervision_date > cast(as_at_date - interval '1 year' as date)
        ) as has_appraisal_in_12_months
    from supervisions
    group by provider_id, staff_id, as_at_date
),

optional_training as (
    select
        provider_id,
        staff_id,
        as_at_date,
        true as has_optional_training
    from training_completions
    where not is_mandatory and completed_date is not null
    group by provider_id, staff_id, as_at_date
),

staff_dated as (
    select
        staff.*,
        cast(staff.as_at_date - interval '1 year' as date) as year_start_date
    from staff
),

staff_flagged as (
    select
        staff_dated.provider_id,
        staff_dated.pdu_code,
        staff_dated.as_at_date,
        staff_dated.batch_id,
        staff_dated.grade,
        staff_dated.fte,
        staff_dated.start_date <= staff_dated.as_at_date
        and (staff_dated.leave_date is null or staff_dated.leave_date > staff_dated.as_at_date) as is_in_post,
        staff_dated.start_date <= staff_dated.year_start_date
        and (
            staff_dated.leave_date is null or staff_dated.leave_date > staff_dated.year_start_date
        ) as was_in_post_a_year_earlier,
        coalesce(
            staff_dated.leave_date > staff_dated.year_start_date
            and staff_dated.leave_date <= staff_dated.as_at_date,
            false
        ) as is_leaver,
        staff_dated.start_date > cast(staff_dated.as_at_date - interval '2 years' as date) as is_under_2_years,
        coalesce(supervision_history.has_supervision_in_6_weeks, false) as has_supervision_in_6_weeks,
        coalesce(supervision_history.has_appraisal_in_12_months, false) as has_appraisal_in_12_months,
        coalesce(optional_training.has_optional_training, false) as has_optional_training
    from staff_dated
    left join supervision_history
        on
            staff_dated.provider_id = supervision_history.provider_id
            and staff_dated.staff_id = supervision_history.staff_id
            and staff_dated.as_at_date = supervision_history.as_at_date
    left join optional_training
        on
            staff_dated.provider_id = optional_training.provider_id
            and staff_dated.staff_id = optional_training.staff_id
            and staff_dated.as_at_date = optional_training.as_at_date
),

-- Staff rows plus the batches of the supervision and training slices they were joined to.
staff_with_batches as (
    select
        provider_id,
        pdu_code,
        as_at_date,
        batch_id,
        grade,
        fte,
        is_in_post,
        was_in_post_a_year_earlier,
        is_leaver,
        is_under_2_years,
        has_supervision_in_6_weeks,
        has_appraisal_in_12_months,
        has_optional_training
    from staff_flagged
    union all
    select distinct
        provider_id,
        cast(null as text) as pdu_code,
        as_at_date,
        batch_id,
        cast(null as text) as grade,
        0 as fte,
        false as is_in_post,
        false as was_in_post_a_year_earlier,
        false as is_leaver,
        false as is_under_2_years,
        false as has_supervision_in_6_weeks,
        false as has_appraisal_in_12_months,
        false as has_optional_training
    from supervisions
),

staff_with_training_batches as (
    select
        provider_id,
        pdu_code,
        as_at_date,
        batch_id,
        is_in_post,
        has_optional_training
    from staff_flagged
    union all
    select distinct
        provider_id,
        cast(null as text) as pdu_code,
        as_at_date,
        batch_id,
        false as is_in_post,
        false as has_optional_training
    from training_completions
),

-- Funded posts against FTE in post, by grade and PDU.
posts as (
    select
        provider_id,
        pdu_code,
        as_at_date,
        batch_id,
        grade,
        funded_fte as establishment_fte,
        0 as in_post_fte
    from establishment
    union all
    select
        provider_id,
        pdu_code,
        as_at_date,
        batch_id,
        grade,
        0 as establishment_fte,
        case when is_in_post then fte else 0 end as in_post_fte
    from staff_flagged
),

-- Days lost (absences) against average FTE in post (staff, at the start and end of the year).
absence_exposure as (
    select
        provider_id,
        pdu_code,
        as_at_date,
        batch_id,
        working_days_lost,
        reason = 'mental_health_stress' as is_stress,
        0 as average_fte
    from absences
    union all
    select
        provider_id,
        pdu_code,
        as_at_date,
        batch_id,
        0 as working_days_lost,
        false as is_stress,
        (
            case when is_in_post then fte else 0 end
            + case when was_in_post_a_year_earlier then fte else 0 end
        ) / 2.0 as average_fte
    from staff_flagged
),

mandatory_training as (
    select * from training_completions
    where is_mandatory and due_date <= as_at_date
),

adjustments as (
    select * from reasonable_adjustments
    where requested_date <= as_at_date - 28
),

counted as (
    {{ indicator_counts('S01', 'posts',
        "sum(establishment_fte) - sum(in_post_fte)", "sum(establishment_fte)",
        'as_at_date', where="grade = 'PO'") }}
    union all
    {{ indicator_counts('S02', 'posts',
        "sum(establishment_fte) - sum(in_post_fte)", "sum(establishment_fte)", 'as_at_date') }}
    union all
    {{ indicator_counts('S03', 'staff_flagged',
        "sum(case when grade = 'PQiP' then fte else 0 end)", "sum(fte)",
        'as_at_date', where="is_in_post and grade in ('PO', 'PQiP')") }}
    union all
    {{ indicator_counts('S04', 'staff_flagged',
        "count(*) filter (where is_leaver)",
        "(count(*) filter (where is_in_post) + count(*) filter (where was_in_post_a_year_earlier)) / 2.0",
        'as_at_date') }}
    union all
    {{ indicator_counts('S05', 'absence_exposure',
        "sum(working_days_lost)", "sum(average_fte)", 'as_at_date') }}
    union all
    {{ indicator_counts('S06', 'absence_exposure',
        "sum(case when is_stress then working_days_lost else 0 end)", "sum(working_days_lost)",
        'as_at_date', where="working_days_lost > 0") }}
    union all
    {{ indicator_counts('S07', 'staff_flagged',
        "count(*) filter (where is_under_2_years)", "count(*)", 'as_at_date', where="is_in_post") }}
    union all
    {{ indicator_counts('W06', 'staff_flagged',
        "sum(case when grade in ('PO', 'PSO', 'PQiP') then fte else 0 end)",
        "sum(case when grade = 'SPO' then fte else 0 end)",
        'as_at_date', by_pdu=false, where="is_in_post",
        unit_x="case when grade in ('PO', 'PSO', 'PQiP') then fte else 0 end",
        unit_y="case when grade = 'SPO' then fte else 0 end") }}
    union all
    {{ indicator_counts('T01', 'mandatory_training',
        "count(*) filter (where completed_date <= due_date)", "count(*)",
        'as_at_date', by_pdu=false, where="course_code != 'INDUCTION'") }}
    union all
    {{ indicator_counts('T02', 'staff_with_batches',
        "count(*) filter (where is_in_post and has_supervision_in_6_weeks)",
        "count(*) filter (where is_in_post)", 'as_at_date') }}
    union all
    {{ indicator_counts('T03', 'staff_with_batches',
        "count(*) filter (where is_in_post and was_in_post_a_year_earlier and has_appraisal_in_12_months)",
        "count(*) filter (where is_in_post and was_in_post_a_year_earlier)", 'as_at_date') }}
    union all
    {{ indicator_counts('T04', 'mandatory_training',
        "count(*) filter (where completed_date <= due_date)", "count(*)",
        'as_at_date', by_pdu=false, where="course_code = 'INDUCTION'") }}
    union all
    {{ indicator_counts('T06', 'staff_with_training_batches',
        "count(*) filter (where is_in_post and has_optional_training)",
        "count(*) filter (where is_in_post)", 'as_at_date') }}
    union all
    {{ indicator_counts('E04', 'adjustments',
        "count(*) filter (where in_place_date is not null)", "count(*)", 'as_at_date', by_pdu=false) }}
),

final as (
    {{ indicator_counts_keyed('counted') }}
)

select * from final
