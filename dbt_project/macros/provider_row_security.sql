{#-
    Post-hook for every marts model (dbt_project.yml): a table with a provider_id column gets the
    warehouse's row-level security, so members of provider_reader see only their own provider's rows.
    dbt rebuilds each table on every run, so the policies are applied to each new table; the policy
    text lives once, in security.enable_provider_row_security (sql/bootstrap/07_access.sql).
-#}
{% macro provider_row_security() %}
    {%- if execute and model.config.materialized in ('table', 'incremental') -%}
        {%- set column_names = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if 'provider_id' in column_names -%}
            select security.enable_provider_row_security('{{ this }}'::regclass)
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
