-- Step 1 of fct_indicator_values: each indicator count (int_indicator_counts_unioned) measured. Value and
-- 95% and 99.8% limits by indicator_catalogue.calculation_type (interval_method names the one used):
--   proportion: value = numerator / denominator, Wilson score limits;
--   rate: value = numerator / denominator (events per unit of exposure), Byar's limits, exact Poisson
--         limits (poisson_exact_limits) when fewer than 10 events (numerator rounded);
--   ratio: value = numerator / denominator, a ratio of sums over sampled units; limits by the delta
--         method (linearisation) from the units' second moments, value -/+ z SE; for a mean (every
--         unit's denominator contribution is 1) a t interval on n - 1 degrees of freedom instead;
--   median: value = numerator (the median), denominator = number of cases, order-statistic limits
--         computed where the ordered values are (indicator_counts' median_of).
-- Also the primary disclosure rule's verdict (primary_suppression_reason); nothing is blanked here.
-- Counts exact; values and limits rounded to 6 decimals. Keyed at the indicator grain (indicator_grain_key).
with

indicator_counts as (
    select * from {{ ref('int_indicator_counts_unioned') }}
),

indicator_catalogue as (
    select * from {{ ref('indicator_catalogue') }}
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

final as (
    select
        {{ indicator_grain_key() }} as indicator_value_id,
        *
    from rounded
)

select * from final
