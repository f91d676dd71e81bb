-- Every band's phrase is quoted verbatim from the characteristic it links to, and that
-- characteristic belongs to the indicator's standard and to the band's rating.
with

bridge as (
    select * from {{ ref('bridge_indicator_characteristic') }}
),

characteristics as (
    select * from {{ ref('dim_characteristic') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

final as (
    select
        bridge.indicator_characteristic_id,
        bridge.phrase,
        characteristics.characteristic_text
    from bridge
    left join characteristics
        on bridge.characteristic_id = characteristics.characteristic_id
    left join indicators
        on bridge.indicator_id = indicators.indicator_id
    where
        characteristics.characteristic_id is null
        or strpos(characteristics.characteristic_text, bridge.phrase) = 0
        or characteristics.rating != bridge.rating
        or characteristics.standard_id != indicators.standard_id
)

select * from final
