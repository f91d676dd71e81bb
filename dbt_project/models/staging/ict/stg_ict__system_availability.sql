with

source as (
    select * from {{ source('ict', 'system_availability') }}
),

renamed as (
    select
        {{ generate_surrogate_key([
            'provider_id', 'system_name', 'service_date', 'as_at_date'
        ]) }} as system_availability_id,
        cast(provider_id as text) as provider_id,
        cast(system_name as text) as system_name,
        cast(service_date as date) as service_date,
        cast(scheduled_minutes as integer) as scheduled_minutes,
        cast(available_minutes as integer) as available_minutes,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
