with

source as (
    select * from {{ source('governance', 'policies') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'policy_id', 'quarter_end_date']) }} as policy_snapshot_id,
        cast(policy_id as text) as policy_id,
        cast(provider_id as text) as provider_id,
        cast(title as text) as title,
        cast(owner_role as text) as owner_role,
        cast(last_review_date as date) as last_review_date,
        cast(next_review_date as date) as next_review_date,
        cast(quarter_end_date as date) as quarter_end_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
