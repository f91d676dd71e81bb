-- Group roles (NOLOGIN): people and services log in as their own users and are granted one of these.
-- Idempotent: each role is created only when missing.
do $$
declare
    role_name text;
begin
    foreach role_name in array array['warehouse_loader', 'warehouse_transformer', 'warehouse_publisher', 'bi_reader']
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
