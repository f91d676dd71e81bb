delete from audit.load_batches
where batch_id = %s
