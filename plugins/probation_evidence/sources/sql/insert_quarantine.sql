-- One quarantined row: its place in the file, the first failing field, every reason, the row as it came.
insert into audit.quarantine (batch_id, row_number, source_file, field, reason, original_values)
values (%s, %s, %s, %s, %s, %s)
