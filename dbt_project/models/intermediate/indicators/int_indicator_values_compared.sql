-- Step 3 of fct_indicator_values: each disclosure-checked row (int_indicator_values_disclosure_checked)
-- beside the national value (and, on PDU rows, its provider's value as regional value), compared with the
-- national value at 95% and 99.8% (polarity-aware), and placed in a comparator quintile.
with

disclosure_checked as (
    select * from {{ ref('int_indicator_values_disclosure_checked') }}
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
    from disclosure_checked
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
        minimum_denominator,
        is_small_numerator_disclosive,
        source_batch_ids,
        has_late_or_missing_data,
        primary_suppression_reason,
        suppression_reason,
        national_value,
        regional_value,
        comparison,
        comparison_998,
        comparator_quintile
    from compared
)

select * from final
