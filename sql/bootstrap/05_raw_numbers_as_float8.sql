-- Raw numbers are double precision (the loader validates them as float64; staging casts to exact numeric).
-- Warehouses made before that change hold them as numeric: convert them once. Views built on raw are
-- dropped first (PostgreSQL cannot retype a column a view uses); dbt rebuilds them on its next run.
-- On an up-to-date warehouse this finds nothing to do.
do $$
declare
    item record;
begin
    if exists (select from information_schema.columns where table_schema = 'raw' and data_type = 'numeric') then
        for item in
            select table_schema, table_name from information_schema.views
            where table_schema in ('staging', 'intermediate')
        loop
            execute format('drop view if exists %I.%I cascade', item.table_schema, item.table_name);
        end loop;
        for item in
            select table_name, column_name from information_schema.columns
            where table_schema = 'raw' and data_type = 'numeric'
        loop
            execute format(
                'alter table raw.%I alter column %I type double precision', item.table_name, item.column_name
            );
        end loop;
    end if;
end
$$;
