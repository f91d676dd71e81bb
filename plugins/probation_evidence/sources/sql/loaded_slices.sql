-- The slices of a family's providers that hold a loaded batch.
select
    provider_id,
    entity,
    period_end_date::text
from audit.load_batches
where source = %s and provider_id = any(%s)
