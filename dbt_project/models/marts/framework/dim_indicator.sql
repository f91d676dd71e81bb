with

indicator_catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

final as (
    select
        indicator_id,
        indicator_name,
        standard_id,
        definition,
        numerator_definition,
        denominator_definition,
        unit,
        polarity,
        method,
        caveats,
        rationale,
        frequency,
        disclosure_rule,
        calculation_type,
        minimum_denominator,
        is_small_numerator_disclosive,
        source_entities
    from indicator_catalogue
)

select * from final
