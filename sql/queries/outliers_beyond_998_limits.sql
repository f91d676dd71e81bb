-- question: Where is a provider an outlier: its value outside the 99.8% limits around national?
-- definition: For each provider (or the one given), the latest provider-level value of every indicator in
--   a period ending on or before as_at. It is an outlier when the national value lies outside the value's
--   99.8% interval (lower_998 to upper_998, whose method interval_method names), the funnel-plot test at
--   three standard errors. Suppressed values, and values without 99.8% limits (a median of too few cases,
--   a ratio from a single unit), are never outliers. direction is worse or better by the indicator's polarity, and
--   higher or lower than national when the indicator has none. Worse outliers first.
-- param: as_at date default current_date -- the data as at this date: each indicator's latest period ending on or before it
-- param: provider_id text default null -- one provider (e.g. N07), or every provider when not given
-- returns: provider_id, provider_name, direction, standard_id, indicator_id, indicator_name, polarity,
--   period_end_date, value, lower_998, upper_998, national_value
-- uses-index: marts.fct_indicator_values (provider_id, indicator_id, period_end_date, pdu_code)
with

parameters as (
    select
        cast(:'as_at' as date) as as_at,
        nullif(:'provider_id', '') as provider_id
),

providers as (
    select
        dim_provider.provider_id,
        dim_provider.provider_name,
        parameters.as_at
    from marts.dim_provider
    cross join parameters
    where parameters.provider_id is null or dim_provider.provider_id = parameters.provider_id
),

-- each provider's latest value of each indicator, with its 99.8% limits
latest_values as (
    select
        providers.provider_id,
        providers.provider_name,
        dim_indicator.standard_id,
        dim_indicator.indicator_id,
        dim_indicator.indicator_name,
        dim_indicator.polarity,
        latest.period_end_date,
        latest.value,
        latest.lower_998,
        latest.upper_998,
        latest.national_value,
        latest.is_suppressed
    from providers
    cross join marts.dim_indicator
    inner join lateral (
        select
            indicator_values.period_end_date,
            indicator_values.value,
            indicator_values.lower_998,
            indicator_values.upper_998,
            indicator_values.national_value,
            indicator_values.is_suppressed
        from marts.fct_indicator_values as indicator_values
        where
            indicator_values.provider_id = providers.provider_id
            and indicator_values.indicator_id = dim_indicator.indicator_id
            and indicator_values.pdu_code is null
            and indicator_values.period_end_date <= providers.as_at
        order by indicator_values.period_end_date desc
        limit 1
    ) as latest on true
),

outliers as (
    select
        latest_values.*,
        case
            when latest_values.national_value < latest_values.lower_998
                then case latest_values.polarity when 'up' then 'better' when 'down' then 'worse' else 'higher' end
            else case latest_values.polarity when 'up' then 'worse' when 'down' then 'better' else 'lower' end
        end as direction
    from latest_values
    where
        not latest_values.is_suppressed
        and latest_values.value is not null
        and (
            latest_values.national_value < latest_values.lower_998
            or latest_values.national_value > latest_values.upper_998
        )
)

select
    outliers.provider_id,
    outliers.provider_name,
    outliers.direction,
    outliers.standard_id,
    outliers.indicator_id,
    outliers.indicator_name,
    outliers.polarity,
    outliers.period_end_date,
    outliers.value,
    outliers.lower_998,
    outliers.upper_998,
    outliers.national_value
from outliers
order by
    outliers.provider_id,
    case outliers.direction when 'worse' then 1 when 'better' then 3 else 2 end,
    outliers.standard_id,
    outliers.indicator_id
