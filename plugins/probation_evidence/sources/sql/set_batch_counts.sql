update audit.load_batches
set rows_landed = %s, rows_loaded = %s, rows_quarantined = %s
where batch_id = %s
