{#- The column's value, or null on a row the disclosure rule suppresses (suppression_reason is set). -#}
{% macro unless_suppressed(column, reason='suppression_reason') -%}
    case when {{ reason }} is null then {{ column }} end
{%- endmacro %}
