with

framework_characteristics as (
    select * from {{ ref('framework_characteristics') }}
),

final as (
    select
        characteristic_id,
        standard_id,
        rating,
        rating_rank,
        paragraph_number,
        characteristic_text
    from framework_characteristics
)

select * from final
