with

source as (
    select * from {{ source('governance', 'risks') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'risk_id', 'quarter_end_date']) }} as risk_snapshot_id,
        cast(risk_id as text) as risk_id,
        cast(provider_id as text) as provider_id,
        cast(title as text) as title,
        cast(score as integer) as score,
        cast(opened_date as date) as opened_date,
        cast(last_reviewed_date as date) as last_reviewed_date,
        cast(status as text) as status,
        cast(quarter_end_date as date) as quarter_end_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
