{#-
    The relation a data test reads. dbt's own macro applies the test's `where`; a test whose config has
    `meta: {rows_loaded_since_last_passed_build: {source: ..., entity: ...}}` reads only the rows of that
    source's load batches loaded since the last passed build (dbt_project.yml says which tests, and why
    that is sound).

    The batches are looked up when the test runs, not when the project is parsed: `audit.marts_state` holds
    the latest load the last passed build saw (`built_from.loaded_through`, written by the transform DAG).
    With no record (the first build, after a failure, or a full rebuild), the test reads every row. The
    batch ids go in as a literal array, so PostgreSQL reads a few batches through the raw table's batch
    index and hashes a long list: measured at 8 years of history, a subquery in their place made each
    test compare every row with every batch id, minutes per test.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set meta = config.get('meta') -%}
    {%- set slices = meta.get('rows_loaded_since_last_passed_build') if meta is mapping else none -%}
    {%- if execute and slices is mapping -%}
        {%- do return(rows_loaded_since_last_passed_build(relation, slices.source, slices.entity)) -%}
    {%- endif -%}
    {%- do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) -%}
{%- endmacro %}

{% macro rows_loaded_since_last_passed_build(relation, source_name, entity) -%}
    {#- Both tables belong to the warehouse's bootstrap (sql/bootstrap/), not to dbt. -#}
    {%- set since = run_query(
        "select built_from ->> 'loaded_through' from audit.marts_state"
    ).columns[0].values() -%}
    {%- if not since or since[0] is none -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set batches = run_query(
        "select batch_id from audit.load_batches where source = " ~ dbt.string_literal(source_name)
        ~ " and entity = " ~ dbt.string_literal(entity)
        ~ " and loaded_at > " ~ dbt.string_literal(since[0]) ~ "::timestamptz order by batch_id"
    ).columns[0].values() -%}
    {%- set quoted = [] -%}
    {%- for batch_id in batches -%}
        {%- do quoted.append("'" ~ batch_id | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- set filtered -%}
        (select * from {{ relation }} where batch_id = any(array[{{ quoted | join(', ') }}]::text[])) as dbt_subquery
    {%- endset -%}
    {%- do return(filtered) -%}
{%- endmacro %}
