-- One row per (provider, PDU where meaningful, period, indicator): value, 95% and 99.8% limits,
-- national and regional values, polarity-aware comparison, comparator quintile, recent trend,
-- indicative band, suppression and data-quality flags, source batches. Disclosure-controlled: the counts
-- and everything derived from them are blanked on suppressed rows (see final).
-- Method by indicator_catalogue.calculation_type (interval_method names the one used on each row):
--   proportion: value = numerator / denominator, Wilson score limits;
--   rate: value = numerator / denominator (events per unit of exposure), Byar's limits, exact Poisson
--         limits (poisson_exact_limits) when fewer than 10 events (numerator rounded);
--   ratio: value = numerator / denominator, a ratio of sums over sampled units; limits by the delta
--         method (linearisation) from the units' second moments, value -/+ z SE; for a mean (every
--         unit's denominator contribution is 1) a t interval on n - 1 degrees of freedom instead;
--   median: value = numerator (the median), denominator = number of cases, order-statistic limits
--         computed where the ordered values are (indicator_counts' median_of).
-- Trend: a test for a linear trend over the latest trend_max_periods periods, given trend_min_points
-- unsuppressed points among them (trend_inputs; the tests are in the linear_trend_test macro).
-- Published counts: numerator and denominator are rounded to the nearest var('published_count_rounding')
-- in the final select only; values, limits and tests use the exact counts.
-- Deterministic: no clock reads, so a rebuild on the same data gives identical rows.
-- Values and limits are rounded to 6 decimals.
{%- set count_rounding_base = var('published_count_rounding', 1) | int %}
{%- if count_rounding_base < 1 %}
    {{ exceptions.raise_compiler_error('published_count_rounding must be an integer of at least 1') }}
{%- endif %}
{%- set trend_min_points = 5 %}
{%- set trend_max_periods = 8 %}
with

indicator_counts as (
    select * from {{ ref('int_indicator_counts_unioned') }}
),

indicator_catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

indicator_bands as (
    select * from {{ ref('indicator_bands') }}
),

poisson_exact_limits as (
    select * from {{ ref('poisson_exact_limits') }}
),

measured as (
    select
        indicator_counts.indicator_id,
        indicator_counts.provider_id,
        indicator_counts.pdu_code,
        indicator_counts.period_end_date,
        cast(indicator_counts.numerator as numeric) as numerator,
        cast(indicator_counts.denominator as numeric) as denominator,
        indicator_counts.source_batch_ids,
        indicator_counts.has_late_or_missing_data,
        indicator_counts.sample_units,
        indicator_counts.sum_x_squared,
        indicator_counts.sum_y_squared,
        indicator_counts.sum_xy,
        indicator_counts.median_lower_95,
        indicator_counts.median_upper_95,
        indicator_counts.median_lower_998,
        indicator_counts.median_upper_998,
        indicator_catalogue.polarity,
        indicator_catalogue.calculation_type,
        indicator_catalogue.minimum_denominator,
        indicator_catalogue.is_small_numerator_disclosive,
        case
            when indicator_catalogue.calculation_type = 'median' then indicator_counts.numerator
            when indicator_counts.denominator > 0
                then cast(indicator_counts.numerator as numeric) / indicator_counts.denominator
        end as raw_value,
        -- Primary disclosure rule (the catalogue's): too few in the denominator, or, where the
        -- numerator counts people, 1 to 4 of them, or 1 to 4 people outside it (all but a few).
        case
            when indicator_counts.denominator < indicator_catalogue.minimum_denominator
                then 'denominator below ' || indicator_catalogue.minimum_denominator
            when indicator_catalogue.is_small_numerator_disclosive and indicator_counts.numerator between 1 and 4
                then 'numerator between 1 and 4'
            when
                indicator_catalogue.is_small_numerator_disclosive
                and indicator_counts.denominator - indicator_counts.numerator between 1 and 4
                then 'denominator minus numerator between 1 and 4'
        end as primary_suppression_reason
    from indicator_counts
    inner join indicator_catalogue
        on indicator_counts.indicator_id = indicator_catalogue.indicator_id
),

-- Means and ratios: the delta-method standard error of the ratio of sums; a mean is a ratio whose every
-- unit contributes 1 to the denominator, and takes a t quantile on n - 1 degrees of freedom.
ratio_errors as (
    select
        measured.*,
        {{ ratio_standard_error(
            'measured.numerator', 'measured.denominator', 'measured.sample_units',
            'measured.sum_x_squared', 'measured.sum_y_squared', 'measured.sum_xy'
        ) }} as ratio_standard_error,
        coalesce(
            measured.denominator = measured.sample_units and measured.sum_y_squared = measured.sample_units,
            false
        ) as is_mean,
        {{ t_quantile(1.959964, 'measured.sample_units - 1') }} as t_quantile_95,
        {{ t_quantile(3.090232, 'measured.sample_units - 1') }} as t_quantile_998
    from measured
),

limited as (
    select
        measured.*,
        poisson_exact_limits.observed_events is not null as has_exact_poisson_limits,
        case measured.calculation_type
            when 'proportion' then {{ wilson_lower('measured.numerator', 'measured.denominator') }}
            when 'rate'
                then case
                        when poisson_exact_limits.observed_events is not null
                            then poisson_exact_limits.lower_95_events / nullif(measured.denominator, 0)
                        else {{ byar_lower('measured.numerator', 'measured.denominator') }}
                    end
            when 'ratio'
                then measured.raw_value
                    - case when measured.is_mean then measured.t_quantile_95 else 1.959964 end
                    * measured.ratio_standard_error
            when 'median' then measured.median_lower_95
        end as raw_lower_95,
        case measured.calculation_type
            when 'proportion' then {{ wilson_upper('measured.numerator', 'measured.denominator') }}
            when 'rate'
                then case
                        when poisson_exact_limits.observed_events is not null
                            then poisson_exact_limits.upper_95_events / nullif(measured.denominator, 0)
                        else {{ byar_upper('measured.numerator', 'measured.denominator') }}
                    end
            when 'ratio'
                then measured.raw_value
                    + case when measured.is_mean then measured.t_quantile_95 else 1.959964 end
                    * measured.ratio_standard_error
            when 'median' then measured.median_upper_95
        end as raw_upper_95,
        case measured.calculation_type
            when 'proportion'
                then {{ wilson_lower('measured.numerator', 'measured.denominator', z=3.090232) }}
            when 'rate'
                then case
                        when poisson_exact_limits.observed_events is not null
                            then poisson_exact_limits.lower_998_events / nullif(measured.denominator, 0)
                        else {{ byar_lower('measured.numerator', 'measured.denominator', z=3.090232) }}
                    end
            when 'ratio'
                then measured.raw_value
                    - case when measured.is_mean then measured.t_quantile_998 else 3.090232 end
                    * measured.ratio_standard_error
            when 'median' then measured.median_lower_998
        end as raw_lower_998,
        case measured.calculation_type
            when 'proportion'
                then {{ wilson_upper('measured.numerator', 'measured.denominator', z=3.090232) }}
            when 'rate'
                then case
                        when poisson_exact_limits.observed_events is not null
                            then poisson_exact_limits.upper_998_events / nullif(measured.denominator, 0)
                        else {{ byar_upper('measured.numerator', 'measured.denominator', z=3.090232) }}
                    end
            when 'ratio'
                then measured.raw_value
                    + case when measured.is_mean then measured.t_quantile_998 else 3.090232 end
                    * measured.ratio_standard_error
            when 'median' then measured.median_upper_998
        end as raw_upper_998
    from ratio_errors as measured
    left join poisson_exact_limits
        on
            measured.calculation_type = 'rate'
            and measured.numerator >= 0
            and round(measured.numerator) = poisson_exact_limits.observed_events
),

rounded as (
    select
        indicator_id,
        provider_id,
        pdu_code,
        period_end_date,
        numerator,
        denominator,
        round(raw_value, 6) as value,
        round(raw_lower_95, 6) as lower_95,
        round(raw_upper_95, 6) as upper_95,
        round(raw_lower_998, 6) as lower_998,
        round(raw_upper_998, 6) as upper_998,
        case
            when raw_lower_95 is null or raw_upper_95 is null then null
            when calculation_type = 'proportion' then 'Wilson score'
            when calculation_type = 'rate' and has_exact_poisson_limits then 'exact Poisson'
            when calculation_type = 'rate' then 'Byar'
            when calculation_type = 'ratio' and is_mean then 't interval of the mean'
            when calculation_type = 'ratio' then 'delta method, ratio of sums'
            when calculation_type = 'median' then 'order-statistic interval of the median'
        end as interval_method,
        polarity,
        calculation_type,
        minimum_denominator,
        is_small_numerator_disclosive,
        source_batch_ids,
        has_late_or_missing_data,
        primary_suppression_reason
    from limited
),

-- Secondary suppression: a provider's count is the sum of its PDUs' counts, so where the provider's row
-- is shown and exactly one of its PDUs is suppressed in a period, that PDU's count could be worked out
-- from the provider's and the other PDUs'. The shown PDU with the smallest numerator is suppressed too.
provider_rows_shown as (
    select
        indicator_id,
        provider_id,
        period_end_date
    from rounded
    where pdu_code is null and primary_suppression_reason is null
),

pdu_suppression as (
    select
        pdus.indicator_id,
        pdus.provider_id,
        pdus.pdu_code,
        pdus.period_end_date,
        count(*) filter (where pdus.primary_suppression_reason is not null) over provider_period as suppressed_pdus,
        row_number() over (
            partition by
                pdus.indicator_id,
                pdus.provider_id,
                pdus.period_end_date,
                pdus.primary_suppression_reason is null
            order by pdus.numerator, pdus.pdu_code
        ) as smallest_first,
        pdus.primary_suppression_reason is null as is_shown
    from rounded as pdus
    inner join provider_rows_shown
        on
            pdus.indicator_id = provider_rows_shown.indicator_id
            and pdus.provider_id = provider_rows_shown.provider_id
            and pdus.period_end_date = provider_rows_shown.period_end_date
    where pdus.pdu_code is not null
    window provider_period as (partition by pdus.indicator_id, pdus.provider_id, pdus.period_end_date)
),

disclosure_checked as (
    select
        rounded.*,
        coalesce(
            rounded.primary_suppression_reason,
            case
                when
                    pdu_suppression.suppressed_pdus = 1
                    and pdu_suppression.is_shown
                    and pdu_suppression.smallest_first = 1
                    then 'secondary: protects another suppressed PDU'
            end
        ) as suppression_reason
    from rounded
    left join pdu_suppression
        on
            rounded.indicator_id = pdu_suppression.indicator_id
            and rounded.provider_id = pdu_suppression.provider_id
            and rounded.pdu_code = pdu_suppression.pdu_code
            and rounded.period_end_date = pdu_suppression.period_end_date
),

-- National value from provider-level rows: pooled (sum of numerators over sum of denominators),
-- or for medians the median of the providers' medians.
national_values as (
    select
        indicator_id,
        period_end_date,
        case
            when max(calculation_type) = 'median'
                then round(cast(percentile_cont(0.5) within group (order by value) as numeric), 6)
            else round(sum(numerator) / nullif(sum(denominator), 0), 6)
        end as national_value
    from rounded
    where value is not null and pdu_code is null
    group by indicator_id, period_end_date
),

provider_values as (
    select
        indicator_id,
        provider_id,
        period_end_date,
        -- a suppressed provider value is not shown as its PDUs' regional value either
        case when suppression_reason is null then value end as provider_value
    from disclosure_checked
    where pdu_code is null
),

compared as (
    select
        disclosure_checked.*,
        national_values.national_value,
        case when disclosure_checked.pdu_code is not null then provider_values.provider_value end as regional_value,
        {{ interval_comparison(
            'disclosure_checked.lower_95', 'disclosure_checked.upper_95',
            'national_values.national_value', 'disclosure_checked.polarity'
        ) }} as comparison,
        {{ interval_comparison(
            'disclosure_checked.lower_998', 'disclosure_checked.upper_998',
            'national_values.national_value', 'disclosure_checked.polarity'
        ) }} as comparison_998,
        -- 1 = best fifth (lowest value when polarity is down or none, highest when up), among
        -- providers (provider rows) or among all PDUs (PDU rows); ties broken by id so rebuilds agree.
        case
            when disclosure_checked.value is not null
                then ntile(5) over (
                        partition by
                            disclosure_checked.indicator_id,
                            disclosure_checked.period_end_date,
                            disclosure_checked.pdu_code is null,
                            disclosure_checked.value is null
                        order by
                            case
                                when disclosure_checked.polarity = 'up' then -disclosure_checked.value
                                else disclosure_checked.value
                            end,
                            disclosure_checked.provider_id,
                            disclosure_checked.pdu_code
                    )
        end as comparator_quintile
    from disclosure_checked
    left join national_values
        on
            disclosure_checked.indicator_id = national_values.indicator_id
            and disclosure_checked.period_end_date = national_values.period_end_date
    left join provider_values
        on
            disclosure_checked.indicator_id = provider_values.indicator_id
            and disclosure_checked.provider_id = provider_values.provider_id
            and disclosure_checked.period_end_date = provider_values.period_end_date
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

-- Disclosure control: a suppressed row keeps its keys, its national value and its flags, and every
-- number that would reveal its counts is blanked (is_suppressed and suppression_reason say why).
final as (
    select
        case
            when pdu_code is null
                then provider_id || '|' || to_char(period_end_date, 'YYYY-MM-DD') || '|' || indicator_id
            else provider_id || '|' || pdu_code || '|' || to_char(period_end_date, 'YYYY-MM-DD') || '|' || indicator_id
        end as indicator_value_id,
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
        {{ unless_suppressed('round(raw_trend_p_value, 6)') }} as trend_p_value,
        cast(trend_points as integer) as trend_points,
        {{ unless_suppressed('indicative_band') }} as indicative_band,
        suppression_reason is not null as is_suppressed,
        suppression_reason,
        has_late_or_missing_data,
        source_batch_ids
    from banded
)

select * from final
