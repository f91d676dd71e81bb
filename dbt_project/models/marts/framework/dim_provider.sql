with

ref_regions as (
    select * from {{ ref('ref_regions') }}
),

final as (
    select
        region_code as provider_id,
        region_name as provider_name
    from ref_regions
)

select * from final
