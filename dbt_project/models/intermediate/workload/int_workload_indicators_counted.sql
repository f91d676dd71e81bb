-- Workload (WMT) indicators (W01-W05, W07) in long format: numerator and denominator per provider
-- and PDU for each week of weekly returns. W01 carries its practitioner-weeks' second moments (points
-- held and available) for a delta-method interval; a change of columns needs one --full-refresh.
--
-- Incremental, because the weekly return is the one source that grows without bound (a row per
-- practitioner per week: about a million rows a year nationally). A build after the first recomputes
-- only the provider-weeks that a new or replaced load batch touches, and the three weeks after each
-- (their sustained-overload count, W03, looks back four weeks); it reads the returns of those weeks and
-- the three before them. A batch counts as new when no row here lists it in source_batch_ids, so a
-- corrected resubmission (a new batch for the same slice) is picked up too. `dbt build --full-refresh`
-- recomputes every week.
--
-- A replacement with no valid rows (every row quarantined, or a header-only file) yields nothing for its
-- week, and delete+insert only deletes the keys it inserts, so the replaced batch's counts would stay. The
-- post-hook deletes every row that lists a batch no longer in audit.load_batches (the loader deletes a
-- replaced batch's row there): what a full rebuild, which reads only current batches, would not have. It
-- runs in the build's transaction, after the insert, so the model still sees those rows when it decides
-- what to rebuild (the weeks after need their W03 recomputed). A batch with no rows is never listed
-- here, so it counts as new only while its week still has rows; afterwards a build leaves it alone.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['provider_id', 'period_end_date'],
        on_schema_change='fail',
        post_hook=[
            "delete from {{ this }} as counted
            where exists (
                select from unnest(string_to_array(counted.source_batch_ids, ',')) as listed (batch_id)
                left join {{ ref('stg_audit__load_batches') }} as load_batches
                    on listed.batch_id = load_batches.batch_id
                where load_batches.batch_id is null
            )",
        ],
    )
}}

with

weekly_caseload as (
    select * from {{ ref('stg_workload__weekly_caseload') }}
),

{% if is_incremental() %}

    load_batches as (
        select * from {{ ref('stg_audit__load_batches') }}
    ),

    counted_batches as (
        select distinct unnest(string_to_array(source_batch_ids, ',')) as batch_id
        from {{ this }}
    ),

    new_batches as (
        select
            load_batches.provider_id,
            load_batches.period_end_date as week_ending_date
        from load_batches
        left join counted_batches
            on load_batches.batch_id = counted_batches.batch_id
        where
            load_batches.source = 'workload'
            and load_batches.entity = 'weekly_caseload'
            and counted_batches.batch_id is null
            -- A batch with no valid rows: new only while its week still holds the replaced batch's rows.
            and (
                load_batches.rows_loaded > 0
                or exists (
                    select from {{ this }} as counted
                    where
                        counted.provider_id = load_batches.provider_id
                        and counted.period_end_date = load_batches.period_end_date
                )
            )
    ),

    weeks_to_rebuild as (
        select distinct
            new_batches.provider_id,
            new_batches.week_ending_date + weeks_after.days_after as week_ending_date
        from new_batches
        cross join (values (0), (7), (14), (21)) as weeks_after (days_after)
    ),

    -- The batches of the weeks to rebuild and of the three weeks before each.
    batches_to_read as (
        select distinct load_batches.batch_id
        from load_batches
        inner join weeks_to_rebuild
            on
                load_batches.provider_id = weeks_to_rebuild.provider_id
                and load_batches.period_end_date
                between weeks_to_rebuild.week_ending_date - 21 and weeks_to_rebuild.week_ending_date
        where load_batches.source = 'workload' and load_batches.entity = 'weekly_caseload'
    ),

    caseload_in_scope as (
        select * from weekly_caseload
        -- An array, not a join: the raw table's index on _batch_id is then used (a join reads every row).
        where batch_id = any(array(select batches_to_read.batch_id from batches_to_read))
    ),

{% else %}

    caseload_in_scope as (
        select * from weekly_caseload
    ),

{% endif %}

-- Sustained overload: over 110% in this week and each of the three weeks before it; only
-- practitioners with a return in all four weeks are counted.
caseload_flagged as (
    select
        *,
        count(*) over last_four_weeks as weeks_returned,
        count(*) filter (where capacity_pct > 110) over last_four_weeks as weeks_over_110_pct
    from caseload_in_scope
    window last_four_weeks as (
        partition by provider_id, staff_id
        order by week_ending_date
        range between interval '21 days' preceding and current row
    )
),

counted as (
    {{ indicator_counts('W01', 'caseload_flagged',
        "sum(total_points)", "sum(available_points)", 'week_ending_date',
        unit_x='total_points', unit_y='available_points') }}
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
    {%- if is_incremental() %}
        {{ indicator_counts_keyed('counted', where="(provider_id, period_end_date) in (
                select weeks_to_rebuild.provider_id, weeks_to_rebuild.week_ending_date from weeks_to_rebuild
            )") }}
    {%- else %}
        {{ indicator_counts_keyed('counted') }}
    {%- endif %}
)

select * from final
