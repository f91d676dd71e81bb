{#
    md5 of the columns cast to text and joined by '|', nulls as '_null_'
    (same shape as dbt_utils.generate_surrogate_key, which cannot be installed here).
#}
{% macro generate_surrogate_key(columns) -%}
    md5(
        {%- for column in columns %}
        coalesce(cast({{ column }} as text), '_null_'){% if not loop.last %} || '|' ||{% endif %}
        {%- endfor %}
    )
{%- endmacro %}
