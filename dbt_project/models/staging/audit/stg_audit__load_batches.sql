with

source as (
    select * from {{ source('audit', 'load_batches') }}
),

renamed as (
    select
        cast(batch_id as text) as batch_id,
        cast(source as text) as source,  -- noqa: RF04
        cast(entity as text) as entity,
        cast(provider_id as text) as provider_id,
        cast(period_end_date as date) as period_end_date,
        cast(source_file as text) as source_file,
        cast(file_sha256 as text) as file_sha256,
        cast(schema_version as text) as schema_version,
        cast(rows_landed as integer) as rows_landed,
        cast(rows_loaded as integer) as rows_loaded,
        cast(rows_quarantined as integer) as rows_quarantined,
        cast(loaded_at as timestamptz) as loaded_at
    from source
)

select * from renamed
