select
    index_class.relname,
    array_agg(attributes.attname order by index_keys.key_position) as key_columns,
    pg_index.indisprimary
from pg_index
inner join pg_class as index_class on pg_index.indexrelid = index_class.oid
inner join pg_class as table_class on pg_index.indrelid = table_class.oid
inner join pg_namespace on table_class.relnamespace = pg_namespace.oid
cross join lateral unnest(pg_index.indkey) with ordinality as index_keys (attnum, key_position)
inner join pg_attribute as attributes
    on table_class.oid = attributes.attrelid and index_keys.attnum = attributes.attnum
where pg_namespace.nspname = %s and table_class.relname = %s
group by index_class.relname, pg_index.indisprimary
