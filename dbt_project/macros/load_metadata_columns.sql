{#- The loader's metadata columns, renamed for staging: one definition for every source. -#}
{% macro load_metadata_columns() -%}
    cast(_batch_id as text) as batch_id,
    cast(_loaded_at as timestamptz) as loaded_at,
    cast(_source_file as text) as source_file,
    cast(_row_number as integer) as source_row_number
{%- endmacro %}
