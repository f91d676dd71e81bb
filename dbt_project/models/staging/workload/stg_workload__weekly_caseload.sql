with

source as (
    select * from {{ source('workload', 'weekly_caseload') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'staff_id', 'week_ending_date']) }} as weekly_caseload_id,
        cast(provider_id as text) as provider_id,
        cast(staff_id as text) as staff_id,
        cast(pdu_code as text) as pdu_code,
        cast(grade as text) as grade,
        cast(week_ending_date as date) as week_ending_date,
        cast(active_cases as integer) as active_cases,
        cast(high_tier_cases as integer) as high_tier_cases,
        cast(total_points as integer) as total_points,
        cast(contracted_hours as numeric) as contracted_hours,
        cast(reduction_hours as numeric) as reduction_hours,
        cast(available_points as integer) as available_points,
        cast(capacity_pct as numeric) as capacity_pct,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
