-- question: Which indicators have worsened since the provider's last inspection?
-- definition: The baseline date is since when it is given; otherwise the fieldwork start of the
--   provider's latest inspection in marts.dim_inspection that started on or before as_at (the previous
--   inspection); otherwise, when the programme holds no earlier inspection of the provider, as_at minus
--   one year. The baseline value is the provider-level value of the latest period ending on or before
--   the baseline date (what was known when fieldwork began); the latest value is that of the latest
--   period ending on or before as_at. Both must be shown (not suppressed), in different periods, and the
--   indicator must have a polarity (up or down). It has worsened when, by its polarity, the baseline
--   value lies outside the latest value's 95% interval on the better side; without an interval (a median
--   of too few cases, a ratio from a single unit), when the latest value is worse than the baseline by
--   more than 5% of the baseline. The evidence packs judge the change since the previous inspection the
--   same way.
-- param: as_at date default current_date -- the data as at this date: the latest period ending on or before it
-- param: provider_id text default null -- one provider (e.g. N07), or every provider when not given
-- param: since date default null -- baseline date to use instead of the previous inspection's fieldwork start
-- returns: provider_id, provider_name, baseline_source, baseline_inspection_id, baseline_date, standard_id,
--   indicator_id, indicator_name, polarity, baseline_period_end_date, baseline_value,
--   latest_period_end_date, latest_value, latest_lower_95, latest_upper_95, change, method
-- uses-index: marts.fct_indicator_values (provider_id, indicator_id, period_end_date, pdu_code)
with

parameters as (
    select
        cast(:'as_at' as date) as as_at,
        nullif(:'provider_id', '') as provider_id,
        cast(nullif(cast(:'since' as text), '') as date) as since
),

providers as (
    select
        dim_provider.provider_id,
        dim_provider.provider_name
    from marts.dim_provider
    cross join parameters
    where parameters.provider_id is null or dim_provider.provider_id = parameters.provider_id
),

previous_inspections as (
    select distinct on (dim_inspection.provider_id)
        dim_inspection.provider_id,
        dim_inspection.inspection_id,
        dim_inspection.fieldwork_start_date
    from marts.dim_inspection
    cross join parameters
    where dim_inspection.fieldwork_start_date <= parameters.as_at
    order by dim_inspection.provider_id asc, dim_inspection.fieldwork_start_date desc, dim_inspection.inspection_id desc
),

baselines as (
    select
        providers.provider_id,
        providers.provider_name,
        parameters.as_at,
        case
            when parameters.since is not null then 'since'
            when previous_inspections.inspection_id is not null then 'previous inspection'
            else 'a year earlier'
        end as baseline_source,
        case when parameters.since is null then previous_inspections.inspection_id end as baseline_inspection_id,
        coalesce(
            parameters.since,
            previous_inspections.fieldwork_start_date,
            cast(parameters.as_at - interval '1 year' as date)
        ) as baseline_date
    from providers
    cross join parameters
    left join previous_inspections
        on providers.provider_id = previous_inspections.provider_id
),

polar_indicators as (
    select
        dim_indicator.indicator_id,
        dim_indicator.indicator_name,
        dim_indicator.standard_id,
        dim_indicator.polarity
    from marts.dim_indicator
    where dim_indicator.polarity in ('up', 'down')
),

-- the latest and the baseline value of each indicator; suppressed values are no values
paired_values as (
    select
        baselines.*,
        polar_indicators.*,
        latest.period_end_date as latest_period_end_date,
        latest.value as latest_value,
        latest.lower_95 as latest_lower_95,
        latest.upper_95 as latest_upper_95,
        baseline.period_end_date as baseline_period_end_date,
        baseline.value as baseline_value
    from baselines
    cross join polar_indicators
    inner join lateral (
        select
            indicator_values.period_end_date,
            indicator_values.value,
            indicator_values.lower_95,
            indicator_values.upper_95,
            indicator_values.is_suppressed
        from marts.fct_indicator_values as indicator_values
        where
            indicator_values.provider_id = baselines.provider_id
            and indicator_values.indicator_id = polar_indicators.indicator_id
            and indicator_values.pdu_code is null
            and indicator_values.period_end_date <= baselines.as_at
        order by indicator_values.period_end_date desc
        limit 1
    ) as latest on true
    inner join lateral (
        select
            indicator_values.period_end_date,
            indicator_values.value,
            indicator_values.is_suppressed
        from marts.fct_indicator_values as indicator_values
        where
            indicator_values.provider_id = baselines.provider_id
            and indicator_values.indicator_id = polar_indicators.indicator_id
            and indicator_values.pdu_code is null
            and indicator_values.period_end_date <= baselines.baseline_date
        order by indicator_values.period_end_date desc
        limit 1
    ) as baseline on true
    where
        not latest.is_suppressed
        and not baseline.is_suppressed
        and latest.value is not null
        and baseline.value is not null
        and latest.period_end_date > baseline.period_end_date
),

judged as (
    select
        paired_values.*,
        case
            when paired_values.latest_lower_95 is not null and paired_values.latest_upper_95 is not null
                then '95% interval'
            else '5% change'
        end as method,
        case
            when paired_values.latest_lower_95 is not null and paired_values.latest_upper_95 is not null
                then case paired_values.polarity
                        when 'up' then paired_values.baseline_value > paired_values.latest_upper_95
                        else paired_values.baseline_value < paired_values.latest_lower_95
                    end
            else
                abs(paired_values.latest_value - paired_values.baseline_value)
                > 0.05 * abs(paired_values.baseline_value)
                and case paired_values.polarity
                    when 'up' then paired_values.latest_value < paired_values.baseline_value
                    else paired_values.latest_value > paired_values.baseline_value
                end
        end as has_worsened
    from paired_values
)

select
    judged.provider_id,
    judged.provider_name,
    judged.baseline_source,
    judged.baseline_inspection_id,
    judged.baseline_date,
    judged.standard_id,
    judged.indicator_id,
    judged.indicator_name,
    judged.polarity,
    judged.baseline_period_end_date,
    judged.baseline_value,
    judged.latest_period_end_date,
    judged.latest_value,
    judged.latest_lower_95,
    judged.latest_upper_95,
    judged.latest_value - judged.baseline_value as change,
    judged.method
from judged
where judged.has_worsened
order by judged.provider_id, judged.standard_id, judged.indicator_id
