-- The disclosure policy in force for the published indicator values, as one row the packs, planners and
-- BI can quote: the suppression rule in words (thresholds from the indicator catalogue), the rounding
-- base of published counts (var('published_count_rounding'), 1 = exact) and a sentence for the packs'
-- methods appendix. Deterministic: built from the catalogue and the project's vars alone.
{%- set count_rounding_base = var('published_count_rounding', 1) | int %}
{%- if count_rounding_base < 1 %}
    {{ exceptions.raise_compiler_error('published_count_rounding must be an integer of at least 1') }}
{%- endif %}
with

indicator_catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

minimum_denominators as (
    select distinct minimum_denominator
    from indicator_catalogue
),

thresholds as (
    select
        (
            select
                string_agg(
                    cast(minimum_denominators.minimum_denominator as text), ', '
                    order by minimum_denominators.minimum_denominator
                ) as minimum_denominator_list
            from minimum_denominators
        ) as minimum_denominators,
        count(*) filter (where is_small_numerator_disclosive) as people_count_indicators
    from indicator_catalogue
),

worded as (
    select
        'A value is suppressed when its denominator is below the indicator''s minimum (' || minimum_denominators
        || ', by indicator: minimum_denominator in the indicator catalogue), or, for the '
        || people_count_indicators
        || ' indicators whose numerator counts people, when the numerator, or the denominator minus the'
        || ' numerator, is between 1 and 4. Where a provider''s value is shown and exactly one of its PDUs is'
        || ' suppressed, the shown PDU with the smallest numerator is suppressed too, so the first cannot be'
        || ' worked out by subtraction. A suppressed row keeps'
        || ' its keys, national value and flags; its counts, value, limits, comparisons, quintile, trend and'
        || ' band are blanked.' as suppression_rule,
        {% if count_rounding_base > 1 -%}
            'Published numerators and denominators are rounded to the nearest {{ count_rounding_base }};'
            || ' values, limits, comparisons and trends are computed from the exact counts.'
        {%- else -%}
            'Published numerators and denominators are exact (not rounded).'
        {%- endif %} as count_rounding_rule
    from thresholds
),

final as (
    select
        'published_indicator_values' as disclosure_policy_id,
        {{ count_rounding_base }} as published_count_rounding_base,
        suppression_rule,
        count_rounding_rule,
        'Only aggregates are published, never individual records. ' || suppression_rule || ' '
        || count_rounding_rule as methods_appendix_text
    from worded
)

select * from final
