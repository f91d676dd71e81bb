-- ICT indicators (I01-I05, I11) in long format: numerator and denominator per provider (and PDU
-- where the source has one) at each ICT as-at date. I02's exposure is staff in post from staffing.
-- I01 carries its system-days' second moments (delta-method interval); I05 its median's order-statistic limits.
with

system_availability as (
    select * from {{ ref('stg_ict__system_availability') }}
),

ict_incidents as (
    select * from {{ ref('stg_ict__ict_incidents') }}
),

remote_access as (
    select * from {{ ref('stg_ict__remote_access') }}
),

record_completeness as (
    select * from {{ ref('stg_ict__record_completeness') }}
),

mi_reports as (
    select * from {{ ref('stg_ict__mi_reports') }}
),

staff as (
    select * from {{ ref('stg_staffing__staff') }}
),

-- Priority 1-2 incidents in the 12 months against staff-months / 100 (staff in post at the as-at
-- date times 12 months); the staff slice must have the same as-at date.
incident_exposure as (
    select
        provider_id,
        as_at_date,
        batch_id,
        1 as incident_count,
        0 as staff_months_per_100
    from ict_incidents
    where priority <= 2
    union all
    select
        provider_id,
        as_at_date,
        batch_id,
        0 as incident_count,
        0.12 as staff_months_per_100
    from staff
    where
        start_date <= as_at_date
        and (leave_date is null or leave_date > as_at_date)
        and (provider_id, as_at_date) in (
            select
                ict_incidents.provider_id,
                ict_incidents.as_at_date
            from ict_incidents
        )
),

latest_month_completeness as (
    select
        *,
        max(month_end_date) over (partition by provider_id, as_at_date) as latest_month_end_date
    from record_completeness
),

mi_reports_timed as (
    select
        *,
        published_date - period_end_date as days_to_publish
    from mi_reports
),

counted as (
    {{ indicator_counts('I01', 'system_availability',
        "sum(available_minutes)", "sum(scheduled_minutes)",
        'as_at_date', by_pdu=false, where="system_name = 'case_management'",
        unit_x='available_minutes', unit_y='scheduled_minutes') }}
    union all
    {{ indicator_counts('I02', 'incident_exposure',
        "sum(incident_count)", "sum(staff_months_per_100)", 'as_at_date', by_pdu=false) }}
    union all
    {{ indicator_counts('I03', 'remote_access',
        "count(*) filter (where has_device and has_remote_access)", "count(*)", 'as_at_date') }}
    union all
    {{ indicator_counts('I04', 'latest_month_completeness',
        "sum(cases_with_diversity_recorded)", "sum(cases)",
        'as_at_date', where="month_end_date = latest_month_end_date") }}
    union all
    {{ indicator_counts('I05', 'mi_reports_timed',
        "percentile_cont(0.5) within group (order by days_to_publish)", "count(*)",
        'as_at_date', by_pdu=false, where="published_date is not null", median_of='days_to_publish') }}
    union all
    {{ indicator_counts('I11', 'mi_reports_timed',
        "count(*) filter (where days_to_publish <= 14)", "count(*)",
        'as_at_date', by_pdu=false, where="period_end_date <= as_at_date - 14") }}
),

final as (
    {{ indicator_counts_keyed('counted') }}
)

select * from final
