-- The latest inspection of the provider that began before this one: its baseline is what was known then.
select
    inspection_id,
    fieldwork_start_date
from marts.dim_inspection
where provider_id = %s and inspection_id <> %s and fieldwork_start_date < %s
order by fieldwork_start_date desc, inspection_id desc
limit 1
