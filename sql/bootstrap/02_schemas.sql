-- Layers: raw (loader writes) -> staging, intermediate (dbt internal) -> marts (public); audit (loads,
-- quarantine, publications).
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists marts;
create schema if not exists audit;

-- Nobody gets anything by default: not even the public schema.
revoke all on schema raw, staging, intermediate, marts, audit from public;
revoke create on schema public from public;

-- Loader: creates and fills raw tables, records batches and quarantine.
grant usage, create on schema raw to warehouse_loader;
grant usage on schema audit to warehouse_loader;

-- Transformer (dbt): reads raw and audit, builds staging, intermediate and marts.
grant usage on schema raw, audit to warehouse_transformer;
grant usage, create on schema staging, intermediate, marts to warehouse_transformer;
alter default privileges for role warehouse_loader in schema raw
    grant select on tables to warehouse_transformer;
grant select on all tables in schema raw to warehouse_transformer;

-- BI tools: marts only. Tables dbt creates in marts are granted by dbt's `grants` config and by default.
grant usage on schema marts to bi_reader;
alter default privileges for role warehouse_transformer in schema marts
    grant select on tables to bi_reader;
