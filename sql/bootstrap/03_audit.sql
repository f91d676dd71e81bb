-- One row per landed file that reached the warehouse: the current batch of each slice
-- (source, entity, provider, period). The check makes "nothing lost" a property of the data.
create table if not exists audit.load_batches (
    batch_id text primary key,
    source text not null,
    entity text not null,
    provider_id text not null,
    period_end_date date not null,
    source_file text not null,
    file_sha256 text not null,
    schema_version text not null,
    rows_landed integer not null check (rows_landed >= 0),
    rows_loaded integer not null check (rows_loaded >= 0),
    rows_quarantined integer not null check (rows_quarantined >= 0),
    loaded_at timestamptz not null,
    constraint load_batches_slice_key unique (source, entity, provider_id, period_end_date),
    constraint load_batches_nothing_lost check (rows_landed = rows_loaded + rows_quarantined)
);

-- Rows that failed their source contract, with why and the values as they arrived.
create table if not exists audit.quarantine (
    batch_id text not null references audit.load_batches (batch_id) on delete cascade,
    row_number integer not null,
    source_file text not null,
    field text not null,
    reason text not null,
    original_values jsonb not null,
    primary key (batch_id, row_number)
);

grant select, insert, update, delete on audit.load_batches to warehouse_loader;
grant select, insert, delete on audit.quarantine to warehouse_loader;
grant select on audit.load_batches, audit.quarantine to warehouse_transformer;
