-- question: Which providers have late, missing or failed submissions over the last weeks?
-- definition: Submissions in audit.submissions due in the weeks weeks up to as_at: due date after
--   as_at - 7 * weeks days and on or before as_at, with a status of on_time, late, missing or failed as
--   recorded (not_yet_due rows are left out). A provider is listed when at least one of them was late,
--   missing or failed; most such submissions first. days_late is the receipt date minus the due date,
--   over late submissions; sources_affected lists source.entity of every late, missing or failed one.
-- param: as_at date default current_date -- the end of the window
-- param: weeks integer default 13 -- how many weeks back (13 is a quarter)
-- returns: provider_id, provider_name, submissions_due, on_time_count, late_count, missing_count, failed_count,
--   late_missing_or_failed_count, late_missing_or_failed_share, max_days_late, mean_days_late,
--   sources_affected
with

parameters as (
    select
        cast(:'as_at' as date) as as_at,
        cast(:'weeks' as integer) as weeks
),

due_submissions as (
    select
        submissions.provider_id,
        submissions.source || '.' || submissions.entity as source_entity,
        submissions.status,
        case
            when submissions.status = 'late'
                then cast(submissions.received_at as date) - submissions.due_date
        end as days_late
    from audit.submissions
    cross join parameters
    where
        submissions.due_date > parameters.as_at - 7 * parameters.weeks
        and submissions.due_date <= parameters.as_at
        and submissions.status in ('on_time', 'late', 'missing', 'failed')
),

provider_submissions as (
    select
        due_submissions.provider_id,
        count(*) as submissions_due,
        count(*) filter (where due_submissions.status = 'on_time') as on_time_count,
        count(*) filter (where due_submissions.status = 'late') as late_count,
        count(*) filter (where due_submissions.status = 'missing') as missing_count,
        count(*) filter (where due_submissions.status = 'failed') as failed_count,
        count(*) filter (where due_submissions.status <> 'on_time') as late_missing_or_failed_count,
        max(due_submissions.days_late) as max_days_late,
        avg(due_submissions.days_late) as mean_days_late,
        string_agg(
            distinct due_submissions.source_entity, ', ' order by due_submissions.source_entity
        ) filter (where due_submissions.status <> 'on_time') as sources_affected
    from due_submissions
    group by due_submissions.provider_id
)

select
    provider_submissions.provider_id,
    dim_provider.provider_name,
    provider_submissions.submissions_due,
    provider_submissions.on_time_count,
    provider_submissions.late_count,
    provider_submissions.missing_count,
    provider_submissions.failed_count,
    provider_submissions.late_missing_or_failed_count,
    round(
        cast(provider_submissions.late_missing_or_failed_count as numeric) / provider_submissions.submissions_due, 3
    ) as late_missing_or_failed_share,
    provider_submissions.max_days_late,
    round(provider_submissions.mean_days_late, 1) as mean_days_late,
    provider_submissions.sources_affected
from provider_submissions
left join marts.dim_provider
    on provider_submissions.provider_id = dim_provider.provider_id
where provider_submissions.late_missing_or_failed_count > 0
order by
    provider_submissions.late_missing_or_failed_count desc,
    provider_submissions.submissions_due desc,
    provider_submissions.provider_id asc
