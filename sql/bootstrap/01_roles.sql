-- Group roles (NOLOGIN): people and services log in as their own users and are granted one of these.
--   warehouse_loader       writes raw and the load bookkeeping in audit (the ingest DAGs)
--   warehouse_transformer  reads raw and audit, builds staging, intermediate and marts (dbt)
--   warehouse_publisher    reads marts, records pack publications (the publish DAG)
--   bi_reader              BI tools: reads marts, nothing else
--   planner_reader         inspection planners: reads marts and audit (what arrived, what was published)
--   provider_reader        a provider's own staff: reads marts, but only its own provider's rows
--                          (row-level security; which provider is set in security.provider_scopes)
-- Idempotent: each role is created only when missing.
do $$
declare
    role_name text;
begin
    foreach role_name in array array[
        'warehouse_loader', 'warehouse_transformer', 'warehouse_publisher',
        'bi_reader', 'planner_reader', 'provider_reader'
    ]
    loop
        if not exists (select from pg_roles where rolname = role_name) then
            execute format('create role %I nologin', role_name);
        end if;
    end loop;
    -- The account that runs the pipeline acts through these roles (SET ROLE), so it needs membership
    -- unless it is a superuser.
    if not (select rolsuper from pg_roles where rolname = current_user) then
        execute format('grant warehouse_loader, warehouse_transformer, warehouse_publisher to %I', current_user);
    end if;
end
$$;
