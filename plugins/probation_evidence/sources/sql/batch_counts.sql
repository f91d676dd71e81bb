select
    rows_landed,
    rows_loaded,
    rows_quarantined
from audit.load_batches
where batch_id = %s
