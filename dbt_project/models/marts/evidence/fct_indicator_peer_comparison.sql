-- One row per provider-level indicator value (indicator, provider, period): the provider's value beside
-- the value of its statistical neighbours (dim_provider_peer) in the same period, and a polarity-aware
-- comparison with it.
-- Peer value, over the peers' provider-level rows that are shown (not suppressed) and have a value, by
-- indicator_catalogue.calculation_type:
--   proportion, rate: pooled, the sum of the peers' numerators over the sum of their denominators;
--   ratio: the mean of the peers' values;
--   median: the median of the peers' values.
-- Disclosure: a peer value from fewer than var peer_minimum_count peers would come close to showing one
-- other provider's figure to a provider-scoped reader, so it is left blank (peer_count still says how many
-- peers had a value). Rounded to 6 decimals. The peer group is the current one (dim_provider_peer), for
-- every period.
with

indicator_values as (
    select
        indicator_id,
        provider_id,
        period_end_date,
        numerator,
        denominator,
        value,
        lower_95,
        upper_95,
        is_suppressed
    from {{ ref('fct_indicator_values') }}
    where pdu_code is null
),

indicator_catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

provider_peers as (
    select
        provider_id,
        peer_provider_id
    from {{ ref('dim_provider_peer') }}
),

peer_values as (
    select
        provider_peers.provider_id,
        peer_rows.indicator_id,
        peer_rows.period_end_date,
        peer_rows.numerator,
        peer_rows.denominator,
        peer_rows.value
    from provider_peers
    inner join indicator_values as peer_rows
        on provider_peers.peer_provider_id = peer_rows.provider_id
    where not peer_rows.is_suppressed and peer_rows.value is not null
),

pooled as (
    select
        peer_values.provider_id,
        peer_values.indicator_id,
        peer_values.period_end_date,
        count(*) as peer_count,
        case max(indicator_catalogue.calculation_type)
            when 'median' then cast(percentile_cont(0.5) within group (order by peer_values.value) as numeric)
            when 'ratio' then avg(peer_values.value)
            else sum(peer_values.numerator) / nullif(sum(peer_values.denominator), 0)
        end as raw_peer_value
    from peer_values
    inner join indicator_catalogue
        on peer_values.indicator_id = indicator_catalogue.indicator_id
    group by peer_values.provider_id, peer_values.indicator_id, peer_values.period_end_date
),

compared as (
    select
        indicator_values.indicator_id,
        indicator_values.provider_id,
        indicator_values.period_end_date,
        indicator_values.is_suppressed,
        indicator_catalogue.polarity,
        case when not indicator_values.is_suppressed then indicator_values.value end as value,
        case when not indicator_values.is_suppressed then indicator_values.lower_95 end as lower_95,
        case when not indicator_values.is_suppressed then indicator_values.upper_95 end as upper_95,
        coalesce(pooled.peer_count, 0) as peer_count,
        case
            when pooled.peer_count >= {{ var('peer_minimum_count') }} then round(pooled.raw_peer_value, 6)
        end as peer_value
    from indicator_values
    inner join indicator_catalogue
        on indicator_values.indicator_id = indicator_catalogue.indicator_id
    left join pooled
        on
            indicator_values.provider_id = pooled.provider_id
            and indicator_values.indicator_id = pooled.indicator_id
            and indicator_values.period_end_date = pooled.period_end_date
),

final as (
    select
        {{ indicator_grain_key(by_pdu=false) }} as indicator_peer_comparison_id,
        indicator_id,
        provider_id,
        period_end_date,
        value,
        lower_95,
        upper_95,
        peer_value,
        cast(peer_count as integer) as peer_count,
        -- a suppressed row's limits are blanked above, so it is not compared
        {{ interval_comparison('lower_95', 'upper_95', 'peer_value', 'polarity') }} as peer_comparison
    from compared
)

select * from final
