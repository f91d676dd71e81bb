-- question: Where does this provider differ from its peers?
-- definition: For every indicator in marts.dim_indicator, the provider's latest provider-level row in a
--   period ending on or before as_at in marts.fct_indicator_peer_comparison: its value and 95% interval
--   against the value of its statistical neighbours (marts.dim_provider_peer: the providers nearest to it
--   on caseload size, high-tier case mix, funded establishment and number of PDUs) in the same period.
--   The peer value is pooled over the peers' shown values (sum of numerators over sum of denominators;
--   mean for ratios, median for medians) and is blank when fewer than three peers have one. Listed only
--   where the provider differs: worse or better when the peer value lies outside the provider's 95%
--   interval, by polarity. A suppressed latest value is no value, never replaced by an older one. Worse
--   first, then by standard and indicator; difference is value minus peer value.
-- param: provider_id text -- the provider (e.g. N07)
-- param: as_at date default current_date -- the data as at this date: each indicator's latest period ending on or before it
-- returns: peer_comparison, standard_id, indicator_id, indicator_name, polarity, period_end_date, value,
--   lower_95, upper_95, peer_value, difference, peer_count, peer_provider_ids
-- uses-index: marts.fct_indicator_peer_comparison (provider_id, indicator_id, period_end_date)
with

peers as (
    select string_agg(provider_peers.peer_provider_id, ', ' order by provider_peers.peer_rank) as peer_provider_ids
    from marts.dim_provider_peer as provider_peers
    where provider_peers.provider_id = :'provider_id'
),

latest_comparisons as (
    select
        dim_indicator.standard_id,
        dim_indicator.indicator_id,
        dim_indicator.indicator_name,
        dim_indicator.polarity,
        latest.period_end_date,
        latest.value,
        latest.lower_95,
        latest.upper_95,
        latest.peer_value,
        latest.peer_count,
        latest.peer_comparison
    from marts.dim_indicator
    inner join lateral (
        select
            peer_comparisons.period_end_date,
            peer_comparisons.value,
            peer_comparisons.lower_95,
            peer_comparisons.upper_95,
            peer_comparisons.peer_value,
            peer_comparisons.peer_count,
            peer_comparisons.peer_comparison
        from marts.fct_indicator_peer_comparison as peer_comparisons
        where
            peer_comparisons.provider_id = :'provider_id'
            and peer_comparisons.indicator_id = dim_indicator.indicator_id
            and peer_comparisons.period_end_date <= cast(:'as_at' as date)
        order by peer_comparisons.period_end_date desc
        limit 1
    ) as latest on true
)

select
    latest_comparisons.peer_comparison,
    latest_comparisons.standard_id,
    latest_comparisons.indicator_id,
    latest_comparisons.indicator_name,
    latest_comparisons.polarity,
    latest_comparisons.period_end_date,
    latest_comparisons.value,
    latest_comparisons.lower_95,
    latest_comparisons.upper_95,
    latest_comparisons.peer_value,
    latest_comparisons.value - latest_comparisons.peer_value as difference,
    latest_comparisons.peer_count,
    peers.peer_provider_ids
from latest_comparisons
cross join peers
where latest_comparisons.peer_comparison in ('better', 'worse')
order by
    case latest_comparisons.peer_comparison when 'worse' then 1 else 2 end,
    latest_comparisons.standard_id,
    latest_comparisons.indicator_id
