with

framework_standards as (
    select * from {{ ref('framework_standards') }}
),

final as (
    select
        standard_id,
        standard_name,
        standard_statement
    from framework_standards
)

select * from final
