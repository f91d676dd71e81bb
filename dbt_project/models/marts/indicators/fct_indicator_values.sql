-- One row per (provider, PDU where meaningful, period, indicator): value, 95% and 99.8% limits,
-- national and regional values, polarity-aware comparison, comparator quintile, recent trend,
-- indicative band, suppression and data-quality flags, source batches. Disclosure-controlled: the counts
-- and everything derived from them are blanked on suppressed rows (see final).
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
        case
            when
                disclosure_checked.lower_95 is null
                or disclosure_checked.upper_95 is null
                or national_values.national_value is null
                or disclosure_checked.polarity not in ('down', 'up')
                then 'not compared'
            when national_values.national_value > disclosure_checked.upper_95
                then case disclosure_checked.polarity when 'down' then 'better' else 'worse' end
            when national_values.national_value < disclosure_checked.lower_95
                then case disclosure_checked.polarity when 'down' then 'worse' else 'better' end
            else 'similar'
        end as comparison,
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

-- Recent trend over the latest four periods (this one and up to three before it).
trend_window as (
    select
        compared.*,
        -- suppressed values are left out, so a trend never hints at one
        count(compared.shown_value) over recent_periods as periods_with_value,
        first_value(compared.shown_value) over recent_periods as earliest_value
    from (
        select
            compared.*,
            case when compared.suppression_reason is null then compared.value end as shown_value
        from compared
    ) as compared
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
        {{ unless_suppressed('numerator') }} as numerator,
        {{ unless_suppressed('denominator') }} as denominator,
        {{ unless_suppressed('value') }} as value,
        {{ unless_suppressed('lower_95') }} as lower_95,
        {{ unless_suppressed('upper_95') }} as upper_95,
        {{ unless_suppressed('lower_998') }} as lower_998,
        {{ unless_suppressed('upper_998') }} as upper_998,
        national_value,
        regional_value,
        case when suppression_reason is null then comparison else 'not compared' end as comparison,
        {{ unless_suppressed('comparator_quintile') }} as comparator_quintile,
        {{ unless_suppressed('trend') }} as trend,
        {{ unless_suppressed('indicative_band') }} as indicative_band,
        suppression_reason is not null as is_suppressed,
        suppression_reason,
        has_late_or_missing_data,
        source_batch_ids
    from banded
)

select * from final
