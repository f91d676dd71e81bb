with

source as (
    select * from {{ source('staffing', 'staff') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'staff_id', 'as_at_date']) }} as staff_snapshot_id,
        cast(staff_id as text) as staff_id,
        cast(provider_id as text) as provider_id,
        cast(pdu_code as text) as pdu_code,
        cast(team_code as text) as team_code,
        cast(grade as text) as grade,
        cast(fte as numeric(4, 2)) as fte,
        cast(start_date as date) as start_date,
        cast(leave_date as date) as leave_date,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
