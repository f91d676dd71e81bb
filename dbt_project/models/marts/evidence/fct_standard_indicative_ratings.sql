-- A transparent, indicative roll-up per provider and standard: the bands of the provider's latest
-- indicator values, counted, turned into points and banded by a versioned rule (seed
-- rating_rollup_rules). Indicative only: the product never rates a provider.
with

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

ratings as (
    select distinct
        rating,
        rating_rank
    from {{ ref('dim_characteristic') }}
),

rules as (
    select * from {{ ref('rating_rollup_rules') }}
    where rule_name = 'standard_from_indicators'
),

latest_values as (
    select
        indicator_values.provider_id,
        indicator_values.indicator_id,
        indicator_values.period_end_date,
        indicator_values.indicative_band,
        row_number() over (
            partition by indicator_values.provider_id, indicator_values.indicator_id
            order by indicator_values.period_end_date desc
        ) as recency
    from indicator_values
    where indicator_values.pdu_code is null
),

counted as (
    select
        latest_values.provider_id,
        indicators.standard_id,
        max(latest_values.period_end_date) as latest_period_end_date,
        count(*) as indicator_count,
        count(latest_values.indicative_band) as banded_count,
        count(*) filter (where latest_values.indicative_band = 'Outstanding') as outstanding_count,
        count(*) filter (where latest_values.indicative_band = 'Good') as good_count,
        count(*) filter (
            where latest_values.indicative_band = 'Requires improvement'
        ) as requires_improvement_count,
        count(*) filter (where latest_values.indicative_band = 'Inadequate') as inadequate_count,
        cast(round(avg(ratings.rating_rank), 3) as numeric(4, 3)) as mean_points
    from latest_values
    inner join indicators
        on latest_values.indicator_id = indicators.indicator_id
    left join ratings
        on latest_values.indicative_band = ratings.rating
    where latest_values.recency = 1
    group by latest_values.provider_id, indicators.standard_id
),

final as (
    select
        counted.provider_id || '|' || counted.standard_id as standard_rating_id,
        counted.provider_id,
        counted.standard_id,
        counted.latest_period_end_date,
        counted.indicator_count,
        counted.banded_count,
        counted.outstanding_count,
        counted.good_count,
        counted.requires_improvement_count,
        counted.inadequate_count,
        counted.mean_points,
        rules.rating as indicative_rating,
        rules.rule_version
    from counted
    left join rules
        on
            (rules.min_value is null or counted.mean_points >= rules.min_value)
            and (rules.max_value is null or counted.mean_points < rules.max_value)
            and counted.mean_points is not null
)

select * from final
