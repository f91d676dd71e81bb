-- Services indicators (V01-V03, V06, V07, E05) in long format per provider (and PDU where the source
-- has one) for each quarter. E05's exposure is open cases at the quarter end from the ICT
-- record-completeness returns. V01 carries its median's order-statistic limits (median_of).
with

referrals as (
    select * from {{ ref('stg_services__referrals') }}
),

interventions as (
    select * from {{ ref('stg_services__interventions') }}
),

volunteers as (
    select * from {{ ref('stg_services__volunteers') }}
),

record_completeness as (
    select * from {{ ref('stg_ict__record_completeness') }}
),

referrals_dated as (
    select
        *,
        cast(quarter_end_date - interval '3 months' as date) as quarter_start_date,
        started_date - referred_date as days_to_start
    from referrals
),

-- Open cases at each month end from the latest ICT return that covers it.
month_end_cases as (
    select distinct on (provider_id, pdu_code, month_end_date)
        provider_id,
        pdu_code,
        month_end_date,
        cases,
        batch_id
    from record_completeness
    order by provider_id asc, pdu_code asc, month_end_date asc, as_at_date desc
),

-- Active volunteers against open cases / 100 at the quarter end.
volunteer_exposure as (
    select
        provider_id,
        pdu_code,
        quarter_end_date,
        batch_id,
        case when is_active then 1 else 0 end as active_volunteers,
        0 as cases_per_100
    from volunteers
    union all
    select
        month_end_cases.provider_id,
        month_end_cases.pdu_code,
        month_end_cases.month_end_date as quarter_end_date,
        month_end_cases.batch_id,
        0 as active_volunteers,
        month_end_cases.cases / 100.0 as cases_per_100
    from month_end_cases
    where (month_end_cases.provider_id, month_end_cases.month_end_date) in (
            select
                volunteers.provider_id,
                volunteers.quarter_end_date
            from volunteers
        )
),

counted as (
    {{ indicator_counts('V01', 'referrals_dated',
        "percentile_cont(0.5) within group (order by days_to_start)", "count(*)",
        'quarter_end_date', where="started_date > quarter_start_date", median_of='days_to_start') }}
    union all
    {{ indicator_counts('V02', 'referrals_dated',
        "count(*) filter (where outcome = 'completed')", "count(*)",
        'quarter_end_date',
        where="ended_date > quarter_start_date and started_date is not null and outcome in ('completed', 'withdrawn')") }}
    union all
    {{ indicator_counts('V03', 'interventions',
        "count(*) filter (where is_available)", "count(*)",
        'quarter_end_date', by_pdu=false, where="category = 'specialist'") }}
    union all
    {{ indicator_counts('V06', 'referrals_dated',
        "count(*) filter (where started_date is null or days_to_start > 56)", "count(*)",
        'quarter_end_date', where="referred_date <= quarter_end_date - 56") }}
    union all
    {{ indicator_counts('V07', 'interventions',
        "count(*) filter (where delivery = 'partner')", "count(*)",
        'quarter_end_date', by_pdu=false, where="is_available") }}
    union all
    {{ indicator_counts('E05', 'volunteer_exposure',
        "sum(active_volunteers)", "sum(cases_per_100)", 'quarter_end_date') }}
),

final as (
    {{ indicator_counts_keyed('counted') }}
)

select * from final
