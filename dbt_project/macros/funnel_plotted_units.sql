{#
    The units a funnel plots, as a select over fct_indicator_values (indicator_values) joined to the
    indicator catalogue (indicator_catalogue), both CTE names in the calling model. One row per
    provider-level or PDU-level row of a proportion or rate indicator that is not suppressed and has a
    value, a positive denominator and a national value (the target); for proportions only values in
    [0, 1] (an over-established vacancy rate is not a proportion and has no interval either). Columns:
    keys, unit_level ('provider' when pdu_code is null, else 'pdu'), calculation_type, polarity,
    denominator, value, target_value and the unit's variance around the target (funnel_variance).
#}
{% macro funnel_plotted_units(indicator_values='indicator_values', indicator_catalogue='indicator_catalogue') -%}
    select
        {{ indicator_values }}.indicator_value_id,
        {{ indicator_values }}.indicator_id,
        {{ indicator_values }}.period_end_date,
        case when {{ indicator_values }}.pdu_code is null then 'provider' else 'pdu' end as unit_level,
        {{ indicator_values }}.provider_id,
        {{ indicator_values }}.pdu_code,
        {{ indicator_catalogue }}.calculation_type,
        {{ indicator_catalogue }}.polarity,
        {{ indicator_values }}.denominator,
        {{ indicator_values }}.value,
        {{ indicator_values }}.national_value as target_value,
        {{ funnel_variance(
            indicator_catalogue ~ '.calculation_type',
            indicator_values ~ '.national_value',
            indicator_values ~ '.denominator'
        ) }} as unit_variance
    from {{ indicator_values }}
    inner join {{ indicator_catalogue }}
        on {{ indicator_values }}.indicator_id = {{ indicator_catalogue }}.indicator_id
    where
        {{ indicator_catalogue }}.calculation_type in ('proportion', 'rate')
        and not {{ indicator_values }}.is_suppressed
        and {{ indicator_values }}.value is not null
        and {{ indicator_values }}.denominator > 0
        and {{ indicator_values }}.national_value is not null
        and (
            {{ indicator_catalogue }}.calculation_type = 'rate'
            or {{ indicator_values }}.value between 0 and 1
        )
        and (
            {{ indicator_catalogue }}.calculation_type = 'proportion'
            or {{ indicator_values }}.value >= 0
        )
{%- endmacro %}
