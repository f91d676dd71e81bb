-- question: Which providers are furthest from national on staffing (standard 1.2)?
-- definition: For each provider, the latest provider-level value of every standard 1.2 indicator in a
--   period ending on or before as_at. A suppressed value counts as no value. An indicator is compared when
--   its value has a 95% interval, a national value and a polarity (up or down); it is worse or better
--   than national when the national value lies outside that interval (the marts' comparison). Its
--   distance is a z-like score: how far the national value lies from the value, in standard errors
--   read from the half of the 95% interval facing the national value (half-width / 1.959964), signed
--   so that positive means worse than national; beyond 1.96 means outside the interval. Providers are
--   ranked by mean distance over their compared indicators, furthest worse first, then by worse_count.
-- param: as_at date default current_date -- the data as at this date: each indicator's latest period ending on or before it
-- returns: distance_rank, provider_id, provider_name, indicators_compared, worse_count, similar_count,
--   better_count, not_compared_count, mean_distance, max_distance, furthest_indicator_id,
--   latest_period_end_date
-- uses-index: marts.fct_indicator_values (provider_id, indicator_id, period_end_date, pdu_code)
with

staffing_indicators as (
    select
        indicators.indicator_id,
        indicators.polarity
    from marts.dim_indicator as indicators
    where indicators.standard_id = '1.2'
),

-- each provider's latest value of each staffing indicator; suppressed values are no values
latest_values as (
    select
        providers.provider_id,
        providers.provider_name,
        staffing_indicators.indicator_id,
        staffing_indicators.polarity,
        latest.period_end_date,
        case when not latest.is_suppressed then latest.value end as value,
        case when not latest.is_suppressed then latest.lower_95 end as lower_95,
        case when not latest.is_suppressed then latest.upper_95 end as upper_95,
        latest.national_value,
        case when latest.is_suppressed then 'not compared' else latest.comparison end as comparison
    from marts.dim_provider as providers
    cross join staffing_indicators
    left join lateral (
        select
            indicator_values.period_end_date,
            indicator_values.value,
            indicator_values.lower_95,
            indicator_values.upper_95,
            indicator_values.national_value,
            indicator_values.comparison,
            indicator_values.is_suppressed
        from marts.fct_indicator_values as indicator_values
        where
            indicator_values.provider_id = providers.provider_id
            and indicator_values.indicator_id = staffing_indicators.indicator_id
            and indicator_values.pdu_code is null
            and indicator_values.period_end_date <= cast(:'as_at' as date)
        order by indicator_values.period_end_date desc
        limit 1
    ) as latest on true
),

-- distance in standard errors from the half-interval facing national, positive when worse
distances as (
    select
        latest_values.*,
        case
            when latest_values.comparison not in ('better', 'similar', 'worse') then null
            when latest_values.national_value = latest_values.value then 0
            else
                (case latest_values.polarity when 'up' then -1 else 1 end)
                * (latest_values.value - latest_values.national_value) * 1.959964
                / nullif(
                    case
                        when latest_values.national_value > latest_values.value
                            then latest_values.upper_95 - latest_values.value
                        else latest_values.value - latest_values.lower_95
                    end,
                    0
                )
        end as distance
    from latest_values
),

provider_distances as (
    select
        distances.provider_id,
        distances.provider_name,
        count(distances.distance) as indicators_compared,
        count(*) filter (where distances.distance is not null and distances.comparison = 'worse') as worse_count,
        count(*) filter (where distances.distance is not null and distances.comparison = 'similar') as similar_count,
        count(*) filter (where distances.distance is not null and distances.comparison = 'better') as better_count,
        count(*) filter (where distances.distance is null) as not_compared_count,
        avg(distances.distance) as mean_distance,
        max(distances.distance) as max_distance,
        (array_agg(distances.indicator_id order by distances.distance desc nulls last, distances.indicator_id asc))[1]
            as furthest_indicator_id,
        max(distances.period_end_date) as latest_period_end_date
    from distances
    group by distances.provider_id, distances.provider_name
)

select
    rank() over (order by provider_distances.mean_distance desc nulls last) as distance_rank,
    provider_distances.provider_id,
    provider_distances.provider_name,
    provider_distances.indicators_compared,
    provider_distances.worse_count,
    provider_distances.similar_count,
    provider_distances.better_count,
    provider_distances.not_compared_count,
    round(provider_distances.mean_distance, 3) as mean_distance,
    round(provider_distances.max_distance, 3) as max_distance,
    case when provider_distances.max_distance is not null then provider_distances.furthest_indicator_id end
        as furthest_indicator_id,
    provider_distances.latest_period_end_date
from provider_distances
order by
    provider_distances.mean_distance desc nulls last,
    provider_distances.worse_count desc,
    provider_distances.provider_id asc
