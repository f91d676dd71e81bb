select
    batch_id,
    source,
    entity,
    rows_loaded,
    rows_quarantined,
    loaded_at
from audit.load_batches
where provider_id = %s and period_end_date <= %s and period_end_date > %s - 366
order by source, entity, loaded_at, batch_id
