-- One row per provider: the measures that describe its circumstances (how much work it holds, how
-- complex that work is, how large and how spread out its funded organisation is), not how well it does.
-- They place providers for the statistical neighbours in dim_provider_peer.
--   caseload: the mean of the provider's weekly totals of active cases, and the share of them in the high
--     tiers (A and B), over the weeks it returned in the latest quarter of the workload data (the 13 weeks
--     ending on the latest week any provider returned), so one late or partial week moves it little;
--   establishment: funded FTE and the number of PDUs at the provider's latest establishment date.
-- Every provider in ref_regions has a row; a measure the provider has no data for is null.
-- Deterministic: "latest" is read from the data, never from the clock.
with

providers as (
    select region_code as provider_id from {{ ref('ref_regions') }}
),

weekly_caseload as (
    select * from {{ ref('stg_workload__weekly_caseload') }}
),

establishment as (
    select * from {{ ref('stg_staffing__establishment') }}
),

latest_week as (
    select max(week_ending_date) as week_ending_date
    from weekly_caseload
),

provider_weeks as (
    select
        weekly_caseload.provider_id,
        weekly_caseload.week_ending_date,
        sum(weekly_caseload.active_cases) as active_cases,
        sum(weekly_caseload.high_tier_cases) as high_tier_cases
    from weekly_caseload
    inner join latest_week
        on
            weekly_caseload.week_ending_date > latest_week.week_ending_date - 91
            and weekly_caseload.week_ending_date <= latest_week.week_ending_date
    group by weekly_caseload.provider_id, weekly_caseload.week_ending_date
),

caseload as (
    select
        provider_id,
        max(week_ending_date) as caseload_week_ending_date,
        count(*) as caseload_weeks_returned,
        round(avg(active_cases), 2) as mean_weekly_active_cases,
        round(cast(sum(high_tier_cases) as numeric) / nullif(sum(active_cases), 0), 6) as high_tier_case_proportion
    from provider_weeks
    group by provider_id
),

latest_establishment_dates as (
    select
        provider_id,
        max(as_at_date) as establishment_as_at_date
    from establishment
    group by provider_id
),

funded_establishment as (
    select
        establishment.provider_id,
        latest_establishment_dates.establishment_as_at_date,
        sum(establishment.funded_fte) as establishment_fte,
        count(distinct establishment.pdu_code) as pdu_count
    from establishment
    inner join latest_establishment_dates
        on
            establishment.provider_id = latest_establishment_dates.provider_id
            and establishment.as_at_date = latest_establishment_dates.establishment_as_at_date
    group by establishment.provider_id, latest_establishment_dates.establishment_as_at_date
),

final as (
    select
        providers.provider_id,
        caseload.caseload_week_ending_date,
        caseload.caseload_weeks_returned,
        caseload.mean_weekly_active_cases,
        caseload.high_tier_case_proportion,
        funded_establishment.establishment_as_at_date,
        funded_establishment.establishment_fte,
        funded_establishment.pdu_count
    from providers
    left join caseload
        on providers.provider_id = caseload.provider_id
    left join funded_establishment
        on providers.provider_id = funded_establishment.provider_id
)

select * from final
