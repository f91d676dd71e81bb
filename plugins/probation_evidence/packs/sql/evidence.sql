-- Every catalogued indicator appears, with or without a value for the period (left join): an indicator
-- the provider did not supply data for is shown as missing rather than silently dropped.
select
    d.indicator_id,
    d.indicator_name,
    d.standard_id,
    d.unit,
    d.polarity,
    d.definition,
    d.method,
    d.disclosure_rule,
    f.value,
    f.numerator,
    f.denominator,
    f.lower_95,
    f.upper_95,
    f.lower_998,
    f.upper_998,
    f.interval_method,
    f.national_value,
    f.comparison,
    f.comparison_998,
    f.trend,
    f.trend_p_value,
    f.trend_method,
    f.trend_points,
    f.indicative_band,
    f.period_end_date,
    f.has_late_or_missing_data,
    f.suppression_reason
from marts.dim_indicator as d
left join lateral (
    -- each indicator's latest provider-level value on or before the as-at date: sources report
    -- weekly, monthly, quarterly or as snapshots, so their periods need not end on the same day
    select v.*
    from marts.fct_indicator_values as v
    where
        v.indicator_id = d.indicator_id
        and v.provider_id = %s
        and v.pdu_code is null
        and v.period_end_date <= %s
    order by v.period_end_date desc
    limit 1
) as f on true
order by d.standard_id, d.indicator_id
