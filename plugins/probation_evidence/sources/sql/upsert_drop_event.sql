-- A rerun with the same events changes no row (first_seen_at stays when the file was first reported).
insert into audit.drop_file_events as d (
    source, provider_id, file_name, event, entity, period_end_date, detail, file_modified_at
)
values (%s, %s, %s, %s, %s, %s, %s, %s)
on conflict (source, provider_id, file_name, event) do update
    set
        entity = excluded.entity,
        period_end_date = excluded.period_end_date,
        detail = excluded.detail,
        file_modified_at = excluded.file_modified_at
    where (d.entity, d.period_end_date, d.detail, d.file_modified_at)
    is distinct from (excluded.entity, excluded.period_end_date, excluded.detail, excluded.file_modified_at)
