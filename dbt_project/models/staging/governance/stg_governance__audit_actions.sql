with

source as (
    select * from {{ source('governance', 'audit_actions') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'action_id', 'quarter_end_date']) }} as audit_action_snapshot_id,
        cast(action_id as text) as action_id,
        cast(provider_id as text) as provider_id,
        cast(origin as text) as origin,
        cast(due_date as date) as due_date,
        cast(closed_date as date) as closed_date,
        cast(quarter_end_date as date) as quarter_end_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
