select
    i.inspection_id,
    i.provider_id,
    i.inspection_type,
    i.fieldwork_start_date,
    i.fieldwork_end_date
from marts.dim_inspection as i
where i.fieldwork_start_date > %s and i.fieldwork_start_date <= %s
order by i.fieldwork_start_date, i.provider_id, i.inspection_id
