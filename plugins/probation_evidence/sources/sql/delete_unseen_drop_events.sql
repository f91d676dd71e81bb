-- A provider's drop-file events no longer seen: not among the file|event pairs given.
delete from audit.drop_file_events
where
    source = %s and provider_id = %s
    and not (file_name || '|' || event = any(%s))
