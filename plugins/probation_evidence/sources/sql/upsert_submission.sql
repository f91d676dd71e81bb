-- API submissions have no arrival time of their own: they arrive when loaded, so the batch's load time
-- (unchanged by reruns) stands for it. A row changes only when something about the submission changed.
insert into audit.submissions as s (
    source, entity, provider_id, period_end_date, due_date, status, received_at, batch_id, detail
)
select
    %s as source_family,
    %s as entity,
    %s as provider_id,
    %s as period_end_date,
    %s as due_date,
    %s as status,
    coalesce(%s, b.loaded_at) as received_at,
    %s as batch_id,
    %s as detail
from (values (%s::text)) as loaded (batch_id)
left join audit.load_batches as b on loaded.batch_id = b.batch_id
on conflict (source, entity, provider_id, period_end_date) do update
    set
        due_date = excluded.due_date,
        status = excluded.status,
        received_at = excluded.received_at,
        batch_id = excluded.batch_id,
        detail = excluded.detail
    where (s.due_date, s.status, s.received_at, s.batch_id, s.detail)
    is distinct from (excluded.due_date, excluded.status, excluded.received_at, excluded.batch_id, excluded.detail)
