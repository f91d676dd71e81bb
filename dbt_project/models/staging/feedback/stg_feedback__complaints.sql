with

source as (
    select * from {{ source('feedback', 'complaints') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'complaint_id', 'quarter_end_date']) }} as complaint_snapshot_id,
        cast(complaint_id as text) as complaint_id,
        cast(provider_id as text) as provider_id,
        cast(pdu_code as text) as pdu_code,
        cast(category as text) as category,
        cast(received_date as date) as received_date,
        cast(responded_date as date) as responded_date,
        cast(quarter_end_date as date) as quarter_end_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
