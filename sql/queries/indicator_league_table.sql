-- question: How does every provider compare on one indicator?
-- definition: Each provider's latest provider-level value of the indicator in a period ending on or
--   before as_at, best first by the indicator's polarity (highest first when up, lowest first when down
--   or none), with its 95% interval, the national value and the comparison with it, and the indicative
--   band. Suppressed values are blank, unranked and listed last; so are providers without a value.
-- param: indicator_id text -- the indicator (e.g. S01; see marts.dim_indicator)
-- param: as_at date default current_date -- the data as at this date: the latest period ending on or before it
-- returns: value_rank, provider_id, provider_name, period_end_date, value, lower_95, upper_95, national_value,
--   comparison, indicative_band, is_suppressed
-- uses-index: marts.fct_indicator_values (provider_id, indicator_id, period_end_date, pdu_code)
with

the_indicator as (
    select
        dim_indicator.indicator_id,
        dim_indicator.polarity
    from marts.dim_indicator
    where dim_indicator.indicator_id = :'indicator_id'
),

-- each provider's latest value of the indicator; suppressed values are no values
latest_values as (
    select
        dim_provider.provider_id,
        dim_provider.provider_name,
        the_indicator.polarity,
        latest.period_end_date,
        latest.national_value,
        latest.is_suppressed,
        case when not latest.is_suppressed then latest.value end as value,
        case when not latest.is_suppressed then latest.lower_95 end as lower_95,
        case when not latest.is_suppressed then latest.upper_95 end as upper_95,
        case when latest.is_suppressed then 'not compared' else latest.comparison end as comparison,
        case when not latest.is_suppressed then latest.indicative_band end as indicative_band
    from the_indicator
    cross join marts.dim_provider
    left join lateral (
        select
            indicator_values.period_end_date,
            indicator_values.value,
            indicator_values.lower_95,
            indicator_values.upper_95,
            indicator_values.national_value,
            indicator_values.comparison,
            indicator_values.indicative_band,
            indicator_values.is_suppressed
        from marts.fct_indicator_values as indicator_values
        where
            indicator_values.provider_id = dim_provider.provider_id
            and indicator_values.indicator_id = the_indicator.indicator_id
            and indicator_values.pdu_code is null
            and indicator_values.period_end_date <= cast(:'as_at' as date)
        order by indicator_values.period_end_date desc
        limit 1
    ) as latest on true
),

ranked as (
    select
        latest_values.*,
        case when latest_values.polarity = 'up' then -latest_values.value else latest_values.value end
            as best_first
    from latest_values
)

select
    case
        when ranked.value is not null
            then rank() over (partition by ranked.value is null order by ranked.best_first)
    end as value_rank,
    ranked.provider_id,
    ranked.provider_name,
    ranked.period_end_date,
    ranked.value,
    ranked.lower_95,
    ranked.upper_95,
    ranked.national_value,
    ranked.comparison,
    ranked.indicative_band,
    ranked.is_suppressed
from ranked
order by ranked.best_first nulls last, ranked.provider_id
