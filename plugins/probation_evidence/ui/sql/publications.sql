select
    publications.inspection_id,
    publications.provider_id,
    publications.pack_version,
    publications.as_at_date,
    publications.published_at,
    publications.reason,
    publications.html_sha256,
    publications.csv_sha256,
    providers.provider_name,
    inspections.fieldwork_start_date
from audit.pack_publications as publications
left join marts.dim_provider as providers on publications.provider_id = providers.provider_id
left join marts.dim_inspection as inspections on publications.inspection_id = inspections.inspection_id
order by publications.inspection_id, publications.pack_version
