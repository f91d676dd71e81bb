with

source as (
    select * from {{ source('services', 'volunteers') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'volunteer_id', 'quarter_end_date']) }} as volunteer_snapshot_id,
        cast(volunteer_id as text) as volunteer_id,
        cast(provider_id as text) as provider_id,
        cast(pdu_code as text) as pdu_code,
        -- `role` is the contract's column name, kept for the models built on this one.
        cast(role as text) as role,  -- noqa: RF04
        cast(start_date as date) as start_date,
        cast(is_active as boolean) as is_active,
        cast(quarter_end_date as date) as quarter_end_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
