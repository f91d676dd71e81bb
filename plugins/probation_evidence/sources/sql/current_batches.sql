-- Every slice of these providers and periods with a loaded batch, with its current submissions row.
select
    b.provider_id,
    b.entity,
    b.period_end_date,
    b.batch_id,
    b.loaded_at,
    s.status,
    s.received_at,
    s.batch_id as submission_batch_id,
    s.detail
from audit.load_batches as b
left join audit.submissions as s
    on
        b.source = s.source
        and b.entity = s.entity
        and b.provider_id = s.provider_id
        and b.period_end_date = s.period_end_date
where b.source = %s and b.provider_id = any(%s) and b.period_end_date = any(%s)
