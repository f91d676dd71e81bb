-- An md5 of every source entity's load batches (batch id and load time of each slice).
select
    source,
    entity,
    md5(string_agg(batch_id || '@' || loaded_at::text, ',' order by batch_id)) as fingerprint
from audit.load_batches
group by source, entity
