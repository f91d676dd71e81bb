-- The inspection programme as the planning system last described it: each provider's latest snapshot.
-- An inspection dropped from a later snapshot is gone from the programme, so it leaves this table too.
with

inspection_schedule as (
    select * from {{ ref('stg_planning__inspection_schedule') }}
),

latest_snapshots as (
    select
        provider_id,
        max(as_at_date) as as_at_date
    from inspection_schedule
    group by provider_id
),

final as (
    select
        inspection_schedule.inspection_id,
        inspection_schedule.provider_id,
        inspection_schedule.inspection_type,
        inspection_schedule.fieldwork_start_date,
        inspection_schedule.fieldwork_end_date,
        inspection_schedule.as_at_date as planned_as_at_date
    from inspection_schedule
    inner join latest_snapshots
        on
            inspection_schedule.provider_id = latest_snapshots.provider_id
            and inspection_schedule.as_at_date = latest_snapshots.as_at_date
)

select * from final
