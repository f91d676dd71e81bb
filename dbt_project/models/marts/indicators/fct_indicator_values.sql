-- One row per (provider, PDU where meaningful, period, indicator): value, 95% and 99.8% limits,
-- national and regional values, polarity-aware comparison, comparator quintile, recent trend,
-- indicative band, suppression and data-quality flags, source batches. Disclosure-controlled: the counts
-- and everything derived from them are blanked on suppressed rows (see final).
-- Built in steps in intermediate/indicators/, each with its own unit test:
--   int_indicator_values_measured: value, limits by calculation type, primary disclosure verdict;
--   int_indicator_values_disclosure_checked: secondary suppression, suppression_reason;
--   int_indicator_values_compared: national and regional values, comparisons, comparator quintile;
--   int_indicator_values_trended: test for a linear trend, indicative band.
-- Here: the published counts, rounded to the nearest var('published_count_rounding') (values, limits and
-- tests use the exact counts), and the blanking of suppressed rows.
-- Deterministic: no clock reads, so a rebuild on the same data gives identical rows.
{%- set count_rounding_base = var('published_count_rounding', 1) | int %}
{%- if count_rounding_base < 1 %}
    {{ exceptions.raise_compiler_error('published_count_rounding must be an integer of at least 1') }}
{%- endif %}
with

indicator_values as (
    select * from {{ ref('int_indicator_values_trended') }}
),

-- Disclosure control: a suppressed row keeps its keys, its national value and its flags, and every
-- number that would reveal its counts is blanked (is_suppressed and suppression_reason say why).
final as (
    select
        indicator_value_id,
        indicator_id,
        provider_id,
        pdu_code,
        period_end_date,
        -- published counts, rounded to the nearest count_rounding_base (1: exact)
        {%- if count_rounding_base > 1 %}
            {{ unless_suppressed(count_rounding_base ~ ' * round(numerator / ' ~ count_rounding_base ~ ')') }}
                as numerator,
            {{ unless_suppressed(count_rounding_base ~ ' * round(denominator / ' ~ count_rounding_base ~ ')') }}
                as denominator,
        {%- else %}
            {{ unless_suppressed('numerator') }} as numerator,
            {{ unless_suppressed('denominator') }} as denominator,
        {%- endif %}
        {{ unless_suppressed('value') }} as value,
        {{ unless_suppressed('lower_95') }} as lower_95,
        {{ unless_suppressed('upper_95') }} as upper_95,
        {{ unless_suppressed('lower_998') }} as lower_998,
        {{ unless_suppressed('upper_998') }} as upper_998,
        {{ unless_suppressed('interval_method') }} as interval_method,
        national_value,
        regional_value,
        case when suppression_reason is null then comparison else 'not compared' end as comparison,
        case when suppression_reason is null then comparison_998 else 'not compared' end as comparison_998,
        {{ unless_suppressed('comparator_quintile') }} as comparator_quintile,
        {{ unless_suppressed('trend') }} as trend,
        {{ unless_suppressed('trend_method') }} as trend_method,
        {{ unless_suppressed('trend_p_value') }} as trend_p_value,
        cast(trend_points as integer) as trend_points,
        {{ unless_suppressed('indicative_band') }} as indicative_band,
        suppression_reason is not null as is_suppressed,
        suppression_reason,
        has_late_or_missing_data,
        source_batch_ids
    from indicator_values
)

select * from final
