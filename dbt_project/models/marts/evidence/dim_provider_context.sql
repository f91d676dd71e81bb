-- The context measures each provider's statistical neighbours are chosen on, one row per provider.
with

provider_context as (
    select * from {{ ref('int_provider_context') }}
),

final as (
    select
        provider_id,
        mean_weekly_active_cases,
        high_tier_case_proportion,
        establishment_fte,
        cast(pdu_count as integer) as pdu_count
    from provider_context
)

select * from final
