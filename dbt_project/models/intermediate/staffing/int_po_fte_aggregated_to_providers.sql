-- Probation officer (PO grade) establishment and FTE in post per provider and as-at date.
-- In post at the as-at date: start_date <= as_at_date and (leave_date is null or leave_date > as_at_date).
with

establishment as (
    select * from {{ ref('stg_staffing__establishment') }}
),

staff as (
    select * from {{ ref('stg_staffing__staff') }}
),

snapshots as (
    select
        provider_id,
        as_at_date,
        batch_id
    from establishment
    union
    select
        provider_id,
        as_at_date,
        batch_id
    from staff
),

snapshot_batches as (
    select
        provider_id,
        as_at_date,
        string_agg(batch_id, ',' order by batch_id) as source_batch_ids
    from snapshots
    group by provider_id, as_at_date
),

po_establishment as (
    select
        provider_id,
        as_at_date,
        sum(funded_fte) as po_establishment_fte
    from establishment
    where grade = 'PO'
    group by provider_id, as_at_date
),

po_in_post as (
    select
        provider_id,
        as_at_date,
        sum(fte) as po_in_post_fte,
        count(*) as po_in_post_headcount
    from staff
    where
        grade = 'PO'
        and start_date <= as_at_date
        and (leave_date is null or leave_date > as_at_date)
    group by provider_id, as_at_date
),

final as (
    select
        snapshot_batches.provider_id || '|' || to_char(snapshot_batches.as_at_date, 'YYYY-MM-DD')
            as provider_snapshot_id,
        snapshot_batches.provider_id,
        snapshot_batches.as_at_date,
        po_establishment.po_establishment_fte,
        coalesce(po_in_post.po_in_post_fte, 0) as po_in_post_fte,
        coalesce(po_in_post.po_in_post_headcount, 0) as po_in_post_headcount,
        snapshot_batches.source_batch_ids
    from snapshot_batches
    left join po_establishment
        on
            snapshot_batches.provider_id = po_establishment.provider_id
            and snapshot_batches.as_at_date = po_establishment.as_at_date
    left join po_in_post
        on
            snapshot_batches.provider_id = po_in_post.provider_id
            and snapshot_batches.as_at_date = po_in_post.as_at_date
)

select * from final
