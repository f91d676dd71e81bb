-- Evidence-pack publications. Each version of each inspection's pack is recorded in audit with the
-- SHA-256 of its numbers and of its HTML, and every number it shows is frozen in marts, so what an
-- inspector was given can be reproduced and compared long after the marts have moved on.

-- warehouse_publisher is created with the other roles (01_roles.sql).

-- Publisher: reads the marts and the load bookkeeping, records publications, freezes pack values.
grant usage on schema marts, audit to warehouse_publisher;
grant select on all tables in schema marts to warehouse_publisher;
alter default privileges for role warehouse_transformer in schema marts
    grant select on tables to warehouse_publisher;
grant select on audit.load_batches, audit.submissions to warehouse_publisher;

create table if not exists audit.pack_publications (
    publication_id text primary key,
    inspection_id text not null,
    provider_id text not null,
    pack_version integer not null check (pack_version >= 1),
    as_at_date date not null,
    data_sha256 text not null,
    html_sha256 text not null,
    reason text not null,
    published_at timestamptz not null,
    csv_sha256 text,
    constraint pack_publications_version_key unique (inspection_id, pack_version),
    constraint pack_publications_reason_check
        check (reason in ('first', 'data changed', 'content changed', 'requested'))
);
-- Warehouses made before these existed: the CSV's hash (null on older versions), and 'content changed',
-- a new version for the same numbers with different HTML (a recorded version's files never change).
alter table audit.pack_publications add column if not exists csv_sha256 text;
do $$
begin
    if not exists (
        select from pg_constraint
        where conname = 'pack_publications_reason_check' and conrelid = 'audit.pack_publications'::regclass
            and pg_get_constraintdef(oid) like '%content changed%'
    ) then
        alter table audit.pack_publications drop constraint if exists pack_publications_reason_check;
        alter table audit.pack_publications add constraint pack_publications_reason_check
            check (reason in ('first', 'data changed', 'content changed', 'requested'));
    end if;
end
$$;
grant select, insert on audit.pack_publications to warehouse_publisher;
grant select on audit.pack_publications to warehouse_transformer;

-- provider_id: the provider the row's figures are about (row-level security filters on it); a comparison
-- row holds another provider's value. pack_provider_id: the provider whose pack it is.
create table if not exists marts.evidence_pack_values (
    publication_id text not null references audit.pack_publications (publication_id),
    provider_id text not null,
    pack_provider_id text not null,
    row_number integer not null,
    record_type text not null,
    standard_id text,
    indicator_id text,
    indicator_name text,
    unit text,
    subject text,
    period_end_date date,
    value double precision,
    numerator double precision,
    denominator double precision,
    lower_95 double precision,
    upper_95 double precision,
    national_value double precision,
    comparison text,
    indicative_band text,
    is_suppressed boolean,
    rows_loaded integer,
    rows_quarantined integer,
    lower_998 double precision,
    upper_998 double precision,
    comparison_998 text,
    interval_method text,
    trend text,
    trend_p_value double precision,
    peer_value double precision,
    peer_comparison text,
    published_at timestamptz not null,
    primary key (publication_id, row_number)
);
grant select, insert on marts.evidence_pack_values to warehouse_publisher;
grant select on marts.evidence_pack_values to bi_reader;
-- dbt declares the frozen values as a source with freshness (`dbt source freshness` reads them).
grant select on marts.evidence_pack_values to warehouse_transformer;
