-- question: What are a provider's latest figures on every indicator, against national?
-- definition: Every indicator in marts.dim_indicator, with the provider's latest provider-level value in
--   a period ending on or before as_at (the value an evidence pack made on that date shows): its
--   numerator, denominator, 95% interval, the national value, the comparison with it (better or worse
--   when the national value lies outside the 95% interval, by polarity), the recent trend and the
--   indicative band. A suppressed value is blank, with its reason; an indicator without a value in
--   any period up to as_at is listed with blanks.
-- param: provider_id text -- the provider (e.g. N07)
-- param: as_at date default current_date -- the data as at this date: each indicator's latest period ending on or before it
-- returns: standard_id, indicator_id, indicator_name, unit, polarity, period_end_date, numerator, denominator,
--   value, lower_95, upper_95, national_value, comparison, trend, indicative_band, is_suppressed,
--   suppression_reason, has_late_or_missing_data
-- uses-index: marts.fct_indicator_values (provider_id, indicator_id, period_end_date, pdu_code)
select
    dim_indicator.standard_id,
    dim_indicator.indicator_id,
    dim_indicator.indicator_name,
    dim_indicator.unit,
    dim_indicator.polarity,
    latest.period_end_date,
    case when not latest.is_suppressed then latest.numerator end as numerator,
    case when not latest.is_suppressed then latest.denominator end as denominator,
    case when not latest.is_suppressed then latest.value end as value,
    case when not latest.is_suppressed then latest.lower_95 end as lower_95,
    case when not latest.is_suppressed then latest.upper_95 end as upper_95,
    latest.national_value,
    case when latest.is_suppressed then 'not compared' else latest.comparison end as comparison,
    case when not latest.is_suppressed then latest.trend end as trend,
    case when not latest.is_suppressed then latest.indicative_band end as indicative_band,
    latest.is_suppressed,
    latest.suppression_reason,
    latest.has_late_or_missing_data
from marts.dim_indicator
left join lateral (
    select
        indicator_values.period_end_date,
        indicator_values.numerator,
        indicator_values.denominator,
        indicator_values.value,
        indicator_values.lower_95,
        indicator_values.upper_95,
        indicator_values.national_value,
        indicator_values.comparison,
        indicator_values.trend,
        indicator_values.indicative_band,
        indicator_values.is_suppressed,
        indicator_values.suppression_reason,
        indicator_values.has_late_or_missing_data
    from marts.fct_indicator_values as indicator_values
    where
        indicator_values.provider_id = :'provider_id'
        and indicator_values.indicator_id = dim_indicator.indicator_id
        and indicator_values.pdu_code is null
        and indicator_values.period_end_date <= cast(:'as_at' as date)
    order by indicator_values.period_end_date desc
    limit 1
) as latest on true
order by dim_indicator.standard_id, dim_indicator.indicator_id
