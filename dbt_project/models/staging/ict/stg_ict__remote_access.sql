with

source as (
    select * from {{ source('ict', 'remote_access') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'staff_id', 'as_at_date']) }} as remote_access_snapshot_id,
        cast(staff_id as text) as staff_id,
        cast(provider_id as text) as provider_id,
        cast(pdu_code as text) as pdu_code,
        cast(has_device as boolean) as has_device,
        cast(has_remote_access as boolean) as has_remote_access,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
