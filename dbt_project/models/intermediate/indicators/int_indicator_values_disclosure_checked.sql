-- Step 2 of fct_indicator_values: the disclosure rule applied to each measured row
-- (int_indicator_values_measured). suppression_reason is the primary reason (the catalogue's rule,
-- worked out in step 1) or, failing that, the secondary one below; null when the row may be shown.
-- Nothing is blanked here: the mart blanks a suppressed row's numbers.
with

measured as (
    select * from {{ ref('int_indicator_values_measured') }}
),

-- Secondary suppression: a provider's count is the sum of its PDUs' counts, so where the provider's row
-- is shown and exactly one of its PDUs is suppressed in a period, that PDU's count could be worked out
-- from the provider's and the other PDUs'. The shown PDU with the smallest numerator is suppressed too.
provider_rows_shown as (
    select
        indicator_id,
        provider_id,
        period_end_date
    from measured
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
    from measured as pdus
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
        measured.*,
        coalesce(
            measured.primary_suppression_reason,
            case
                when
                    pdu_suppression.suppressed_pdus = 1
                    and pdu_suppression.is_shown
                    and pdu_suppression.smallest_first = 1
                    then 'secondary: protects another suppressed PDU'
            end
        ) as suppression_reason
    from measured
    left join pdu_suppression
        on
            measured.indicator_id = pdu_suppression.indicator_id
            and measured.provider_id = pdu_suppression.provider_id
            and measured.pdu_code = pdu_suppression.pdu_code
            and measured.period_end_date = pdu_suppression.period_end_date
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
        suppression_reason
    from disclosure_checked
)

select * from final
