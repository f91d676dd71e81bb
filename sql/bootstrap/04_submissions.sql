-- What each provider was expected to submit, per source entity and period, and what arrived when.
-- Late and missing submissions are evidence in their own right (a late return caps what can be said).
create table if not exists audit.submissions (
    source text not null,
    entity text not null,
    provider_id text not null,
    period_end_date date not null,
    due_date date not null,
    status text not null check (status in ('on_time', 'late', 'missing', 'not_yet_due', 'failed')),
    received_at timestamptz,
    batch_id text,
    detail text,
    primary key (source, entity, provider_id, period_end_date)
);

grant select, insert, update, delete on audit.submissions to warehouse_loader;
grant select on audit.submissions to warehouse_transformer;
