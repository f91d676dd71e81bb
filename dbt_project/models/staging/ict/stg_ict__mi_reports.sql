with

source as (
    select * from {{ source('ict', 'mi_reports') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'report_id', 'as_at_date']) }} as mi_report_snapshot_id,
        cast(report_id as text) as report_id,
        cast(provider_id as text) as provider_id,
        cast(report_name as text) as report_name,
        cast(period_end_date as date) as period_end_date,
        cast(published_date as date) as published_date,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
