-- A batch starts with zero counts; they are set once its rows are loaded and quarantined.
insert into audit.load_batches (
    batch_id, source, entity, provider_id, period_end_date,
    source_file, file_sha256, schema_version, rows_landed, rows_loaded, rows_quarantined, loaded_at
)
values (%s, %s, %s, %s, %s, %s, %s, %s, 0, 0, 0, %s)
