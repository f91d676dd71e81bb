with

source as (
    select * from {{ source('services', 'interventions') }}
),

renamed as (
    select
        {{ generate_surrogate_key([
            'provider_id', 'intervention_id', 'quarter_end_date'
        ]) }} as intervention_snapshot_id,
        cast(intervention_id as text) as intervention_id,
        cast(provider_id as text) as provider_id,
        -- `name` is the contract's column name, kept for the models built on this one.
        cast(name as text) as name,  -- noqa: RF04
        cast(category as text) as category,
        cast(delivery as text) as delivery,
        cast(pdu_code as text) as pdu_code,
        cast(is_available as boolean) as is_available,
        cast(quarter_end_date as date) as quarter_end_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
