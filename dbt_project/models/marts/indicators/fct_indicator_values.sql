-- One row per (provider, period, indicator): value, 95% Wilson interval, national value,
-- polarity-aware comparison and indicative band. Deterministic: no clock reads, so a rebuild
-- on the same data gives identical rows. Values and limits are rounded to 6 decimals.
with

po_fte as (
    select * from {{ ref('int_po_fte_aggregated_to_providers') }}
),

indicator_catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

indicator_bands as (
    select * from {{ ref('indicator_bands') }}
),

-- One CTE per indicator with the same columns, unioned in indicator_counts.
s01_po_vacancy_rate as (
    select
        'S01' as indicator_id,
        provider_id,
        as_at_date as period_end_date,
        po_establishment_fte - po_in_post_fte as numerator,
        po_establishment_fte as denominator,
        source_batch_ids
    from po_fte
),

indicator_counts as (
    select * from s01_po_vacancy_rate
),

provider_values as (
    select
        indicator_id,
        provider_id,
        period_end_date,
        cast(numerator as numeric) as numerator,
        cast(denominator as numeric) as denominator,
        round(
            case when denominator > 0 then cast(numerator as numeric) / denominator end, 6
        ) as value,
        round({{ wilson_lower('numerator', 'denominator') }}, 6) as lower_95,
        round({{ wilson_upper('numerator', 'denominator') }}, 6) as upper_95,
        source_batch_ids
    from indicator_counts
),

national_values as (
    select
        indicator_id,
        period_end_date,
        round(sum(numerator) / sum(denominator), 6) as national_value
    from provider_values
    where value is not null
    group by indicator_id, period_end_date
),

compared as (
    select
        provider_values.*,
        national_values.national_value,
        case
            when
                provider_values.lower_95 is null
                or provider_values.upper_95 is null
                or national_values.national_value is null
                or indicator_catalogue.polarity not in ('down', 'up')
                then 'not compared'
            when national_values.national_value > provider_values.upper_95
                then case indicator_catalogue.polarity when 'down' then 'better' else 'worse' end
            when national_values.national_value < provider_values.lower_95
                then case indicator_catalogue.polarity when 'down' then 'worse' else 'better' end
            else 'similar'
        end as comparison
    from provider_values
    inner join indicator_catalogue
        on provider_values.indicator_id = indicator_catalogue.indicator_id
    left join national_values
        on
            provider_values.indicator_id = national_values.indicator_id
            and provider_values.period_end_date = national_values.period_end_date
),

banded as (
    select
        compared.*,
        indicator_bands.rating as indicative_band
    from compared
    left join indicator_bands
        on
            compared.indicator_id = indicator_bands.indicator_id
            and (indicator_bands.lower_bound is null or compared.value >= indicator_bands.lower_bound)
            and (indicator_bands.upper_bound is null or compared.value < indicator_bands.upper_bound)
            and compared.value is not null
),

final as (
    select
        provider_id || '|' || to_char(period_end_date, 'YYYY-MM-DD') || '|' || indicator_id
            as indicator_value_id,
        indicator_id,
        provider_id,
        period_end_date,
        numerator,
        denominator,
        value,
        lower_95,
        upper_95,
        national_value,
        comparison,
        indicative_band,
        source_batch_ids
    from banded
)

select * from final
