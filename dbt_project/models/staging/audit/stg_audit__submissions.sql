with

source as (
    select * from {{ source('audit', 'submissions') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['source', 'entity', 'provider_id', 'period_end_date']) }} as submission_id,
        cast(source as text) as source,  -- noqa: RF04
        cast(entity as text) as entity,
        cast(provider_id as text) as provider_id,
        cast(period_end_date as date) as period_end_date,
        cast(due_date as date) as due_date,
        cast(status as text) as status,
        cast(received_at as timestamptz) as received_at,
        cast(batch_id as text) as batch_id,
        cast(detail as text) as detail
    from source
)

select * from renamed
