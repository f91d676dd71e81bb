with

source as (
    select * from {{ source('planning', 'inspection_schedule') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['inspection_id', 'as_at_date']) }} as inspection_snapshot_id,
        cast(inspection_id as text) as inspection_id,
        cast(provider_id as text) as provider_id,
        cast(inspection_type as text) as inspection_type,
        cast(fieldwork_start_date as date) as fieldwork_start_date,
        cast(fieldwork_end_date as date) as fieldwork_end_date,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
