{#
    One indicator's long-format counts from a prepared relation (a CTE name): a row per provider and
    period and, when by_pdu, also a row per provider, PDU and period (pdu_code null on provider rows;
    rows with a null PDU count towards the provider only). The relation must have provider_id,
    pdu_code (when by_pdu), batch_id and the period column. numerator and denominator are aggregate
    expressions; source_batch_ids lists the distinct batches of the rows read, sorted.
#}
{% macro indicator_counts(indicator_id, relation, numerator, denominator, period_column, by_pdu=true, where=none) -%}
    select
        '{{ indicator_id }}' as indicator_id,
        provider_id,
        {% if by_pdu -%}
            case when grouping(pdu_code) = 0 then pdu_code end as pdu_code,
        {%- else -%}
            cast(null as text) as pdu_code,
        {%- endif %}
        {{ period_column }} as period_end_date,
        cast({{ numerator }} as numeric) as numerator,
        cast({{ denominator }} as numeric) as denominator,
        string_agg(distinct batch_id, ',' order by batch_id) as source_batch_ids
    from {{ relation }}
    {% if where -%}
        where {{ where }}
    {%- endif %}
    {% if by_pdu -%}
        group by grouping sets ((provider_id, {{ period_column }}), (provider_id, pdu_code, {{ period_column }}))
        having grouping(pdu_code) = 1 or pdu_code is not null
    {%- else -%}
        group by provider_id, {{ period_column }}
    {%- endif %}
{%- endmacro %}

{#- Key of a long-format count row: indicator|provider|PDU or 'ALL'|period. -#}
{% macro indicator_count_id() -%}
    indicator_id || '|' || provider_id || '|' || coalesce(pdu_code, 'ALL') || '|' || to_char(period_end_date, 'YYYY-MM-DD')
{%- endmacro %}
