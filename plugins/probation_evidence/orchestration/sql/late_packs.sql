-- Inspections whose fieldwork starts within the deadline window (parameters: the run's date, the run's
-- date again, the window's last date) and for which no pack version is recorded; soonest first.
select
    planned.inspection_id,
    planned.provider_id,
    providers.provider_name,
    planned.inspection_type,
    planned.fieldwork_start_date,
    planned.fieldwork_start_date - %s as days_left
from marts.dim_inspection as planned
left join marts.dim_provider as providers
    on planned.provider_id = providers.provider_id
where
    planned.fieldwork_start_date >= %s
    and planned.fieldwork_start_date <= %s
    and not exists (
        select from audit.pack_publications as published
        where published.inspection_id = planned.inspection_id
    )
order by planned.fieldwork_start_date, planned.provider_id, planned.inspection_id
