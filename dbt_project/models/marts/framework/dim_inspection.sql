with

inspection_schedule as (
    select * from {{ ref('inspection_schedule') }}
),

final as (
    select
        inspection_id,
        provider_id,
        inspection_type,
        fieldwork_start_date,
        fieldwork_end_date
    from inspection_schedule
)

select * from final
