with

source as (
    select * from {{ source('services', 'referrals') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'referral_id', 'quarter_end_date']) }} as referral_snapshot_id,
        cast(referral_id as text) as referral_id,
        cast(provider_id as text) as provider_id,
        cast(pdu_code as text) as pdu_code,
        cast(intervention_id as text) as intervention_id,
        cast(referred_date as date) as referred_date,
        cast(started_date as date) as started_date,
        cast(ended_date as date) as ended_date,
        cast(outcome as text) as outcome,
        cast(quarter_end_date as date) as quarter_end_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
