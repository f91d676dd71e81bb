-- What the file-drop ingest saw in a provider's drop folder but did not read, and why: a file still being
-- written, the loser of two files for one slice, a file for an entity or period no contract expects, a symbolic
-- link. Unreadable files are not here: their slice is recorded failed in audit.submissions. One row per
-- (file, event); a rerun that sees the same thing changes nothing (first_seen_at keeps the first sighting).
create table if not exists audit.drop_file_events (
    source text not null,
    provider_id text not null,
    file_name text not null,
    event text not null check (event in ('unexpected', 'superseded', 'in_motion', 'refused')),
    entity text,
    period_end_date date,
    detail text not null,
    file_modified_at timestamptz,
    first_seen_at timestamptz not null default now(),
    primary key (source, provider_id, file_name, event)
);
comment on table audit.drop_file_events is
    'Files in provider drop folders that the latest ingest run saw but did not read, and why '
    '(one row per file and event; an event no longer seen is removed by the next run).';
comment on column audit.drop_file_events.source is 'Source family whose drop folder holds the file.';
comment on column audit.drop_file_events.provider_id is
    'Provider (region code) whose drop folder holds the file.';
comment on column audit.drop_file_events.file_name is
    'Path of the file relative to the drops root, e.g. feedback/N07/complaints_20260930.csv.';
comment on column audit.drop_file_events.event is
    'unexpected: no contract expects its entity or period, or its name does not parse; superseded: a later '
    'file for the same slice was read instead; in_motion: still being written (modified within the settle time, '
    'or named as an upload in progress), read by a later run; refused: a symbolic link or special file, never read.';
comment on column audit.drop_file_events.entity is 'Entity its name gives, when the name parses.';
comment on column audit.drop_file_events.period_end_date is 'Period end its name gives, when the name parses.';
comment on column audit.drop_file_events.detail is 'Why, in a sentence (fixed for a given file, so reruns match).';
comment on column audit.drop_file_events.file_modified_at is 'The file''s modification time when seen (its arrival).';
comment on column audit.drop_file_events.first_seen_at is 'When a run first recorded this event for this file.';

-- Written by the ingest (loader); read as audit.submissions is read.
grant select, insert, update, delete on audit.drop_file_events to warehouse_loader;
grant select on audit.drop_file_events to warehouse_transformer, warehouse_publisher, planner_reader;
