-- Evidence per characteristic statement: for each provider's latest value of each indicator, every
-- characteristic the indicator bears on, and whether the indicator's indicative band points at it.
with

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
),

bridge as (
    select * from {{ ref('bridge_indicator_characteristic') }}
),

characteristics as (
    select * from {{ ref('dim_characteristic') }}
),

latest_values as (
    select
        indicator_values.*,
        row_number() over (
            partition by indicator_values.provider_id, indicator_values.indicator_id
            order by indicator_values.period_end_date desc
        ) as recency
    from indicator_values
    where indicator_values.pdu_code is null
),

final as (
    select
        latest_values.provider_id || '|' || bridge.indicator_characteristic_id as characteristic_evidence_id,
        latest_values.provider_id,
        latest_values.period_end_date,
        characteristics.standard_id,
        bridge.characteristic_id,
        characteristics.rating,
        bridge.indicator_id,
        bridge.phrase,
        latest_values.value,
        latest_values.comparison,
        latest_values.indicative_band,
        latest_values.is_suppressed,
        coalesce(latest_values.indicative_band = characteristics.rating, false) as is_band_match
    from latest_values
    inner join bridge
        on latest_values.indicator_id = bridge.indicator_id
    inner join characteristics
        on bridge.characteristic_id = characteristics.characteristic_id
    where latest_values.recency = 1
)

select * from final
