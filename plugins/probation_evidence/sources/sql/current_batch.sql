-- The batch a slice (source, entity, provider, period) holds now, if any.
select
    batch_id,
    file_sha256
from audit.load_batches
where source = %s and entity = %s and provider_id = %s and period_end_date = %s
