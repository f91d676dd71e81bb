-- Which framework paragraph each indicator band echoes, and in which words.
with

indicator_bands as (
    select * from {{ ref('indicator_bands') }}
),

final as (
    select
        indicator_id || '|' || characteristic_id as indicator_characteristic_id,
        indicator_id,
        characteristic_id,
        rating,
        phrase
    from indicator_bands
)

select * from final
