-- One row per (provider, PDU where meaningful, period, indicator): value, 95% and 99.8% limits,
-- national and regional values, polarity-aware comparison, comparator quintile, recent trend,
-- indicative band, suppression and data-quality flags, source batches.
-- Method by indicator_catalogue.calculation_type:
--   proportion: value = numerator / denominator, Wilson score limits;
--   rate: value = numerator / denominator (events per unit of exposure), Byar's limits, exact Poisson
--         limits (poisson_exact_limits) when fewer than 10 events (numerator rounded);
--   ratio: value = numerator / denominator (a mean or ratio of sums), no limits;
--   median: value = numerator (the median), denominator = number of cases, no limits.
-- Deterministic: no clock reads, so a rebuild on the same data gives identical rows.
-- Values and limits are rounded to 6 decimals.
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
        indicator_catalogue.polarity,
        indicator_catalogue.calculation_type,
        indicator_catalogue.minimum_denominator,
        indicator_catalogue.is_small_numerator_disclosive,
        case
            when indicator_catalogue.calculation_type = 'median' then indicator_counts.numerator
            when indicator_counts.denominator > 0
                then cast(indicator_counts.numerator as numeric) / indicator_counts.denominator
        end as raw_value
    from indicator_counts
    inner join indicator_catalogue
        on indicator_counts.indicator_id = indicator_catalogue.indicator_id
),

limited as (
    select
        measured.*,
        case measured.calculation_type
            when 'proportion' then {{ wilson_lower('measured.numerator', 'measured.denominator') }}
            when 'rate'
                then case
                        when poisson_exact_limits.observed_events is not null
                            then poisson_exact_limits.lower_95_events / nullif(measured.denominator, 0)
                        else {{ byar_lower('measured.numerator', 'measured.denominator') }}
                    end
        end as raw_lower_95,
        case measured.calculation_type
            when 'proportion' then {{ wilson_upper('measured.numerator', 'measured.denominator') }}
            when 'rate'
                then case
                        when poisson_exact_limits.observed_events is not null
                            then poisson_exact_limits.upper_95_events / nullif(measured.denominator, 0)
                        else {{ byar_upper('measured.numerator', 'measured.denominator') }}
                    end
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
        end as raw_upper_998
    from measured
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
        polarity,
        calculation_type,
        minimum_denominator,
        is_small_numerator_disclosive,
        source_batch_ids,
        has_late_or_missing_data
    from limited
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
        value as provider_value
    from rounded
    where pdu_code is null
),

compared as (
    select
        rounded.*,
        national_values.national_value,
        case when rounded.pdu_code is not null then provider_values.provider_value end as regional_value,
        case
            when
                rounded.lower_95 is null
                or rounded.upper_95 is null
                or national_values.national_value is null
                or rounded.polarity not in ('down', 'up')
                then 'not compared'
            when national_values.national_value > rounded.upper_95
                then case rounded.polarity when 'down' then 'better' else 'worse' end
            when national_values.national_value < rounded.lower_95
                then case rounded.polarity when 'down' then 'worse' else 'better' end
            else 'similar'
        end as comparison,
        -- 1 = best fifth (lowest value when polarity is down or none, highest when up), among
        -- providers (provider rows) or among all PDUs (PDU rows); ties broken by id so rebuilds agree.
        case
            when rounded.value is not null
                then ntile(5) over (
                        partition by
                            rounded.indicator_id,
                            rounded.period_end_date,
                            rounded.pdu_code is null,
                            rounded.value is null
                        order by
                            case when rounded.polarity = 'up' then -rounded.value else rounded.value end,
                            rounded.provider_id,
                            rounded.pdu_code
                    )
        end as comparator_quintile
    from rounded
    left join national_values
        on
            rounded.indicator_id = national_values.indicator_id
            and rounded.period_end_date = national_values.period_end_date
    left join provider_values
        on
            rounded.indicator_id = provider_values.indicator_id
            and rounded.provider_id = provider_values.provider_id
            and rounded.period_end_date = provider_values.period_end_date
),

-- Recent trend over the latest four periods (this one and up to three before it).
trend_window as (
    select
        compared.*,
        count(compared.value) over recent_periods as periods_with_value,
        first_value(compared.value) over recent_periods as earliest_value
    from compared
    window recent_periods as (
        partition by compared.indicator_id, compared.provider_id, coalesce(compared.pdu_code, 'ALL')
        order by compared.period_end_date
        rows between 3 preceding and current row
    )
),

trended as (
    select
        trend_window.*,
        case
            when trend_window.polarity not in ('down', 'up') then null
            when trend_window.periods_with_value < 3 or trend_window.earliest_value is null
                then 'not enough data'
            -- with limits: a change is the earliest value lying outside this period's 95% interval
            when trend_window.lower_95 is not null and trend_window.upper_95 is not null
                then case
                        when trend_window.earliest_value < trend_window.lower_95
                            then case trend_window.polarity when 'up' then 'improving' else 'worsening' end
                        when trend_window.earliest_value > trend_window.upper_95
                            then case trend_window.polarity when 'up' then 'worsening' else 'improving' end
                        else 'stable'
                    end
            -- without limits: a change is a move of more than 5% of the earliest value
            when abs(trend_window.value - trend_window.earliest_value) <= 0.05 * abs(trend_window.earliest_value)
                then 'stable'
            when trend_window.value > trend_window.earliest_value
                then case trend_window.polarity when 'up' then 'improving' else 'worsening' end
            else case trend_window.polarity when 'up' then 'worsening' else 'improving' end
        end as trend
    from trend_window
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

-- Disclosure rule: flag, never blank (values stay populated; BI-facing marts suppress later).
suppressed as (
    select
        banded.*,
        case
            when banded.denominator < banded.minimum_denominator
                then 'denominator below ' || banded.minimum_denominator
            when banded.is_small_numerator_disclosive and banded.numerator between 1 and 4
                then 'numerator between 1 and 4'
        end as suppression_reason
    from banded
),

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
        numerator,
        denominator,
        value,
        lower_95,
        upper_95,
        lower_998,
        upper_998,
        national_value,
        regional_value,
        comparison,
        comparator_quintile,
        trend,
        indicative_band,
        suppression_reason is not null as is_suppressed,
        suppression_reason,
        has_late_or_missing_data,
        source_batch_ids
    from suppressed
)

select * from final
