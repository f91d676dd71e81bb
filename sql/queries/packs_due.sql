-- question: Which evidence packs are due in the next weeks, and has each been published?
-- definition: Inspections in marts.dim_inspection whose fieldwork starts after as_at and no later than
--   weeks weeks after it: the publisher's lead window (as_at, as_at + 7 * weeks days]. A pack counts as
--   published when audit.pack_publications holds a version for the inspection whose data as-at date is
--   on or before as_at; the latest such version is shown. Soonest fieldwork first.
-- param: as_at date default current_date -- the date to look ahead from
-- param: weeks integer default 8 -- how many weeks ahead (the publisher's default lead is 8 weeks, 56 days)
-- returns: inspection_id, provider_id, provider_name, inspection_type, fieldwork_start_date, fieldwork_end_date,
--   days_to_fieldwork, is_pack_published, pack_versions, latest_pack_version, latest_pack_as_at_date,
--   latest_pack_reason, latest_published_at
with

parameters as (
    select
        cast(:'as_at' as date) as as_at,
        cast(:'weeks' as integer) as weeks
),

due_inspections as (
    select
        dim_inspection.inspection_id,
        dim_inspection.provider_id,
        dim_inspection.inspection_type,
        dim_inspection.fieldwork_start_date,
        dim_inspection.fieldwork_end_date,
        dim_inspection.fieldwork_start_date - parameters.as_at as days_to_fieldwork,
        parameters.as_at
    from marts.dim_inspection
    cross join parameters
    where
        dim_inspection.fieldwork_start_date > parameters.as_at
        and dim_inspection.fieldwork_start_date <= parameters.as_at + 7 * parameters.weeks
),

-- publications for those inspections made from data as at the date or earlier, latest version first
publications as (
    select
        pack_publications.inspection_id,
        pack_publications.pack_version,
        pack_publications.as_at_date,
        pack_publications.reason,
        pack_publications.published_at,
        count(*) over (partition by pack_publications.inspection_id) as pack_versions,
        row_number() over (
            partition by pack_publications.inspection_id order by pack_publications.pack_version desc
        ) as recency
    from audit.pack_publications
    inner join due_inspections
        on
            pack_publications.inspection_id = due_inspections.inspection_id
            and pack_publications.as_at_date <= due_inspections.as_at
)

select
    due_inspections.inspection_id,
    due_inspections.provider_id,
    dim_provider.provider_name,
    due_inspections.inspection_type,
    due_inspections.fieldwork_start_date,
    due_inspections.fieldwork_end_date,
    due_inspections.days_to_fieldwork,
    publications.inspection_id is not null as is_pack_published,
    coalesce(publications.pack_versions, 0) as pack_versions,
    publications.pack_version as latest_pack_version,
    publications.as_at_date as latest_pack_as_at_date,
    publications.reason as latest_pack_reason,
    publications.published_at as latest_published_at
from due_inspections
left join marts.dim_provider
    on due_inspections.provider_id = dim_provider.provider_id
left join publications
    on
        due_inspections.inspection_id = publications.inspection_id
        and publications.recency = 1
order by due_inspections.fieldwork_start_date, due_inspections.provider_id, due_inspections.inspection_id
