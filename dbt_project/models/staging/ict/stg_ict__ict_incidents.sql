with

source as (
    select * from {{ source('ict', 'ict_incidents') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'incident_id', 'as_at_date']) }} as ict_incident_snapshot_id,
        cast(incident_id as text) as incident_id,
        cast(provider_id as text) as provider_id,
        cast(system_name as text) as system_name,
        cast(priority as integer) as priority,
        cast(opened_at as timestamptz) as opened_at,
        cast(resolved_at as timestamptz) as resolved_at,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
