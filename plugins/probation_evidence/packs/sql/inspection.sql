select
    i.inspection_id,
    i.provider_id,
    p.provider_name,
    i.inspection_type,
    i.fieldwork_start_date,
    i.fieldwork_end_date
from marts.dim_inspection as i
inner join marts.dim_provider as p on i.provider_id = p.provider_id
where i.inspection_id = %s
