-- Step 4 of fct_indicator_values: each compared row (int_indicator_values_compared) with its recent trend
-- (a test for a linear trend, linear_trend_test) and its indicative band (indicator_bands).
-- Nothing blanked: the mart blanks a suppressed row's trend and band. p-value rounded to 6 decimals.
{%- set trend_min_points = 5 %}
{%- set trend_max_periods = 8 %}
with

compared as (
    select * from {{ ref('int_indicator_values_compared') }}
),

indicator_bands as (
    select * from {{ ref('indicator_bands') }}
),

-- Trend: a test for a linear trend over the row's latest {{ trend_max_periods }} periods (this one and
-- those before it, same indicator, provider and PDU), scored by period number so a gap keeps its place.
-- Only unsuppressed values are points, so a trend never hints at a suppressed value; fewer than
-- {{ trend_min_points }} points is 'not enough data'.
trend_inputs as (
    select
        compared.*,
        row_number() over (
            partition by compared.indicator_id, compared.provider_id, coalesce(compared.pdu_code, 'ALL')
            order by compared.period_end_date
        ) as period_number,
        compared.suppression_reason is null and compared.value is not null as is_trend_point,
        -- standard error from the 95% limits (means, ratios and medians weight by it)
        case
            when compared.upper_95 > compared.lower_95
                then (compared.upper_95 - compared.lower_95) / (2 * 1.959964)
        end as standard_error
    from compared
),

trended as (
    {{ linear_trend_test('trend_inputs', max_periods=trend_max_periods, min_points=trend_min_points) }}
),

banded as (
    select
        trended.*,
        indicator_bands.rating as indicative_band
    from trended
    left join indicator_bands
        on
            trended.indicator_id = indicator_bands.indicator_id
            and (indicator_bands.lower_bound is null or trended.value >= indicator_bands.lower_bound)
            and (indicator_bands.upper_bound is null or trended.value < indicator_bands.upper_bound)
            and trended.value is not null
),

final as (
    select
        indicator_value_id,
        indicator_id,
        provider_id,
        pdu_code,
        period_end_date,
        numerator,
        denominator,
        value,
        lower_95,
        upper_95,
        lower_998,
        upper_998,
        interval_method,
        polarity,
        calculation_type,
        suppression_reason,
        national_value,
        regional_value,
        comparison,
        comparison_998,
        comparator_quintile,
        trend_points,
        trend_method,
        round(raw_trend_p_value, 6) as trend_p_value,
        trend,
        indicative_band,
        has_late_or_missing_data,
        source_batch_ids
    from banded
)

select * from final
