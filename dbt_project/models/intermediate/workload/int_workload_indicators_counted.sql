-- Workload (WMT) indicators (W01-W05, W07) in long format: numerator and denominator per provider
-- and PDU for each week of weekly returns.
with

weekly_caseload as (
    select * from {{ ref('stg_workload__weekly_caseload') }}
),

-- Sustained overload: over 110% in this week and each of the three weeks before it; only
-- practitioners with a return in all four weeks are counted.
caseload_flagged as (
    select
        *,
        count(*) over last_four_weeks as weeks_returned,
        count(*) filter (where capacity_pct > 110) over last_four_weeks as weeks_over_110_pct
    from weekly_caseload
    window last_four_weeks as (
        partition by provider_id, staff_id
        order by week_ending_date
        range between interval '21 days' preceding and current row
    )
),

counted as (
    {{ indicator_counts('W01', 'caseload_flagged',
        "sum(total_points)", "sum(available_points)", 'week_ending_date') }}
    union all
    {{ indicator_counts('W02', 'caseload_flagged',
        "count(*) filter (where capacity_pct > 110)", "count(*)", 'week_ending_date') }}
    union all
    {{ indicator_counts('W03', 'caseload_flagged',
        "count(*) filter (where weeks_over_110_pct = 4)", "count(*)",
        'week_ending_date', where="weeks_returned = 4") }}
    union all
    {{ indicator_counts('W04', 'caseload_flagged',
        "sum(active_cases)", "sum(contracted_hours) / 37.0", 'week_ending_date', where="grade = 'PO'") }}
    union all
    {{ indicator_counts('W05', 'caseload_flagged',
        "count(*) filter (where active_cases >= 50)", "count(*)", 'week_ending_date') }}
    union all
    {{ indicator_counts('W07', 'caseload_flagged',
        "sum(case when grade = 'PSO' then high_tier_cases else 0 end)", "sum(high_tier_cases)",
        'week_ending_date') }}
),

final as (
    select
        {{ indicator_count_id() }} as indicator_count_id,
        indicator_id,
        provider_id,
        pdu_code,
        period_end_date,
        numerator,
        denominator,
        source_batch_ids
    from counted
)

select * from final
