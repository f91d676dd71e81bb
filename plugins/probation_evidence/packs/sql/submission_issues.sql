-- Submissions that were late, never arrived or failed, over the year to the as-at date.
select
    source,
    entity,
    period_end_date,
    due_date,
    status,
    received_at,
    detail
from audit.submissions
where
    provider_id = %s and status in ('late', 'missing', 'failed')
    and period_end_date <= %s and period_end_date > %s - 366
order by
    case status when 'failed' then 0 when 'missing' then 1 else 2 end, source, entity, period_end_date
