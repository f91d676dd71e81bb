{#
    One indicator's long-format counts from a prepared relation (a CTE name): a row per provider and
    period and, when by_pdu, also a row per provider, PDU and period (pdu_code null on provider rows;
    rows with a null PDU count towards the provider only). The relation must have provider_id,
    pdu_code (when by_pdu), batch_id and the period column. numerator and denominator are aggregate
    expressions; source_batch_ids lists the distinct batches of the rows read, sorted.

    Uncertainty inputs (null on every row where the argument is not given):
    - unit_x (and unit_y, default 1): for a mean or ratio of sums, each row of the relation is one
      sampled unit contributing x to the numerator and y to the denominator (so numerator must be
      sum(unit_x) and denominator sum(unit_y)). Emits sample_units (rows read), sum_x_squared,
      sum_y_squared and sum_xy, from which fct_indicator_values computes the interval.
    - median_of: for a median, the expression whose median the numerator is. Emits the order-statistic
      limits of the median at 95% and 99.8% (median_order_statistic).
#}
{% macro indicator_counts(
    indicator_id, relation, numerator, denominator, period_column, by_pdu=true, where=none,
    unit_x=none, unit_y='1', median_of=none
) -%}
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
        string_agg(distinct batch_id, ',' order by batch_id) as source_batch_ids,
        {% if unit_x -%}
            cast(count(*) as integer) as sample_units,
            cast(sum(cast({{ unit_x }} as numeric) * cast({{ unit_x }} as numeric)) as numeric) as sum_x_squared,
            cast(sum(cast({{ unit_y }} as numeric) * cast({{ unit_y }} as numeric)) as numeric) as sum_y_squared,
            cast(sum(cast({{ unit_x }} as numeric) * cast({{ unit_y }} as numeric)) as numeric) as sum_xy,
        {%- else -%}
            cast(null as integer) as sample_units,
            cast(null as numeric) as sum_x_squared,
            cast(null as numeric) as sum_y_squared,
            cast(null as numeric) as sum_xy,
        {%- endif %}
        {% if median_of -%}
            {{ median_order_statistic(median_of, 1.959964, 'lower') }} as median_lower_95,
            {{ median_order_statistic(median_of, 1.959964, 'upper') }} as median_upper_95,
            {{ median_order_statistic(median_of, 3.090232, 'lower') }} as median_lower_998,
            {{ median_order_statistic(median_of, 3.090232, 'upper') }} as median_upper_998
        {%- else -%}
            cast(null as numeric) as median_lower_95,
            cast(null as numeric) as median_upper_95,
            cast(null as numeric) as median_lower_998,
            cast(null as numeric) as median_upper_998
        {%- endif %}
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

{#-
    Key of a row at the indicator grain (provider, PDU or none, period, indicator), the one format of every
    model at that grain (int_*_indicators_counted and int_indicator_counts_unioned.indicator_count_id,
    fct_indicator_values.indicator_value_id, fct_indicator_peer_comparison.indicator_peer_comparison_id):
    provider|period|indicator on provider rows, provider|PDU|period|indicator on PDU rows, the period as
    YYYY-MM-DD. prefix qualifies the columns; by_pdu=false for a relation of provider rows only (no pdu_code).
-#}
{% macro indicator_grain_key(prefix='', by_pdu=true) -%}
    {%- set provider_key -%}
        {{ prefix }}provider_id || '|' || to_char({{ prefix }}period_end_date, 'YYYY-MM-DD') || '|' || {{ prefix }}indicator_id
    {%- endset -%}
    {%- if by_pdu -%}
        case
            when {{ prefix }}pdu_code is null then {{ provider_key }}
            else {{ prefix }}provider_id || '|' || {{ prefix }}pdu_code
                || '|' || to_char({{ prefix }}period_end_date, 'YYYY-MM-DD') || '|' || {{ prefix }}indicator_id
        end
    {%- else -%}
        {{ provider_key }}
    {%- endif -%}
{%- endmacro %}

{#-
    The last step of every family's counted model (int_<family>_indicators_counted): the counts of
    relation keyed at the indicator grain, in the column order int_indicator_counts_unioned unions them
    in. where, when given, keeps only the rows it holds (the incremental workload model's weeks).
-#}
{% macro indicator_counts_keyed(relation='counted', where=none) -%}
    select
        {{ indicator_grain_key() }} as indicator_count_id,
        indicator_id,
        provider_id,
        pdu_code,
        period_end_date,
        numerator,
        denominator,
        source_batch_ids,
        {{ indicator_uncertainty_columns() }}
    from {{ relation }}
    {%- if where %}
    where {{ where }}
    {%- endif %}
{%- endmacro %}

{#- The uncertainty columns every long-format count relation carries, in order (see indicator_counts). -#}
{% macro indicator_uncertainty_columns(prefix='') -%}
    {{ prefix }}sample_units,
    {{ prefix }}sum_x_squared,
    {{ prefix }}sum_y_squared,
    {{ prefix }}sum_xy,
    {{ prefix }}median_lower_95,
    {{ prefix }}median_upper_95,
    {{ prefix }}median_lower_998,
    {{ prefix }}median_upper_998
{%- endmacro %}
