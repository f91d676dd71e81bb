-- Who reads what, beyond the pipeline's own roles (01_roles.sql lists them all).
--
-- bi_reader:       marts only (02_schemas.sql, dbt grants).
-- planner_reader:  marts and audit. Quarantined rows are readable without their original values, which
--                  are raw provider data and may hold identifiers.
-- provider_reader: marts, but only its own provider's rows. Every marts table with a provider_id column
--                  has row-level security: a restrictive policy limits members of provider_reader to the
--                  providers security.provider_scopes gives their role. dbt applies the policies to each
--                  mart it builds (macro provider_row_security, a post-hook on every marts model with a
--                  provider_id column); this file applies them to the marts table it owns.
-- Idempotent: safe to run any number of times.

-- Planners: marts and audit, read-only.
grant usage on schema marts, audit to planner_reader;
grant select on all tables in schema marts to planner_reader;
alter default privileges for role warehouse_transformer in schema marts
    grant select on tables to planner_reader;
grant select on audit.load_batches, audit.submissions, audit.pack_publications to planner_reader;
grant select (batch_id, row_number, source_file, field, reason) on audit.quarantine to planner_reader;

-- Providers: marts, row-filtered.
grant usage on schema marts to provider_reader;
grant select on all tables in schema marts to provider_reader;
alter default privileges for role warehouse_transformer in schema marts
    grant select on tables to provider_reader;
-- Except the marts whose rows name other providers, which are for planners only: dbt revokes these
-- default grants when it builds them (dim_provider_peer's post-hook), and the grant above must not give
-- them back on a rerun.
do $$
begin
    if to_regclass('marts.dim_provider_peer') is not null then
        revoke all on marts.dim_provider_peer from provider_reader, bi_reader;
    end if;
end
$$;

-- Which provider(s) each provider-scoped role may see. A role here is granted provider_reader; login
-- users are granted that role (see security.scope_role_to_provider).
create schema if not exists security;
revoke all on schema security from public;
grant usage on schema security to provider_reader, warehouse_transformer;

create table if not exists security.provider_scopes (
    role_name name not null,
    provider_id text not null,
    primary key (role_name, provider_id)
);
-- A provider's staff may see their own scope, and nobody else's.
alter table security.provider_scopes enable row level security;
drop policy if exists own_scopes on security.provider_scopes;
create policy own_scopes on security.provider_scopes for select
    using (
        exists (
            select from pg_roles
            where pg_roles.rolname = provider_scopes.role_name and pg_has_role(current_user, pg_roles.oid, 'member')
        )
    );
grant select on security.provider_scopes to provider_reader;

-- The providers the current user may see through its provider-scoped roles (none for other users).
create or replace function security.scoped_provider_ids() returns setof text
language sql stable security invoker
set search_path = pg_catalog, pg_temp
as $$
    select scopes.provider_id
    from security.provider_scopes as scopes
    inner join pg_roles on pg_roles.rolname = scopes.role_name
    where pg_has_role(current_user, pg_roles.oid, 'member')
$$;
revoke all on function security.scoped_provider_ids() from public;
grant execute on function security.scoped_provider_ids() to provider_reader;

-- Row-level security on one table with a provider_id column. Every privileged reader sees every row
-- (privileges still decide who reads at all); members of provider_reader see their providers' rows only,
-- even when they hold another role too, because the policy that limits them is restrictive.
create or replace function security.enable_provider_row_security(target regclass) returns void
language plpgsql security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
    execute format('alter table %s enable row level security', target);
    execute format('drop policy if exists every_row on %s', target);
    execute format('create policy every_row on %s for all using (true) with check (true)', target);
    execute format('drop policy if exists own_provider_only on %s', target);
    execute format(
        'create policy own_provider_only on %s as restrictive for all to provider_reader'
        ' using (provider_id in (select security.scoped_provider_ids()))',
        target
    );
end
$$;
revoke all on function security.enable_provider_row_security(regclass) from public;
grant execute on function security.enable_provider_row_security(regclass) to warehouse_transformer;

-- Give a role one provider's rows: creates the role (NOLOGIN) when missing, makes it a provider_reader
-- and records its scope. Grant the role to the provider's login users.
create or replace function security.scope_role_to_provider(scoped_role name, scoped_provider_id text)
returns void
language plpgsql security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
    if not exists (select from pg_roles where rolname = scoped_role) then
        execute format('create role %I nologin', scoped_role);
    end if;
    execute format('grant provider_reader to %I', scoped_role);
    insert into security.provider_scopes (role_name, provider_id)
    values (scoped_role, scoped_provider_id)
    on conflict do nothing;
end
$$;
revoke all on function security.scope_role_to_provider(name, text) from public;

-- Warehouses made before these columns existed: the frozen values carry their provider (so providers
-- see their own packs' numbers only) and whether the disclosure rule withheld each value.
alter table marts.evidence_pack_values add column if not exists is_suppressed boolean;
alter table marts.evidence_pack_values add column if not exists provider_id text;
update marts.evidence_pack_values as pack_values
set provider_id = publications.provider_id
from audit.pack_publications as publications
where pack_values.publication_id = publications.publication_id and pack_values.provider_id is null;
alter table marts.evidence_pack_values alter column provider_id set not null;
create index if not exists evidence_pack_values_provider_idx on marts.evidence_pack_values (provider_id);
-- Before pack_provider_id, every frozen row was tagged with the pack's provider, so a provider-scoped
-- reader saw the other providers' values of the comparison charts in its own pack. Tag each row with the
-- provider its figures are about, and keep the pack's provider apart. Only untagged rows are touched.
alter table marts.evidence_pack_values add column if not exists pack_provider_id text;
update marts.evidence_pack_values as pack_values
set
    pack_provider_id = publications.provider_id,
    provider_id = case
        when pack_values.record_type = 'provider_comparison' then pack_values.subject
        else publications.provider_id
    end
from audit.pack_publications as publications
where pack_values.publication_id = publications.publication_id and pack_values.pack_provider_id is null;
alter table marts.evidence_pack_values alter column pack_provider_id set not null;
-- Warehouses made before packs showed 99.8% limits, interval methods, trend tests and peer values.
alter table marts.evidence_pack_values
add column if not exists lower_998 double precision,
add column if not exists upper_998 double precision,
add column if not exists comparison_998 text,
add column if not exists interval_method text,
add column if not exists trend text,
add column if not exists trend_p_value double precision,
add column if not exists peer_value double precision,
add column if not exists peer_comparison text;
select security.enable_provider_row_security('marts.evidence_pack_values') as row_security_enabled;
-- A scoped reader sees its own provider's figures in its own provider's packs only: not its figures as
-- they appear in another provider's pack, whose publication (named after the inspection) is not its own.
drop policy if exists own_packs_only on marts.evidence_pack_values;
create policy own_packs_only on marts.evidence_pack_values as restrictive for all to provider_reader
    using (pack_provider_id in (select security.scoped_provider_ids() as provider_id));
grant select on marts.evidence_pack_values to planner_reader, provider_reader;
