-- question: How do a provider's indicative ratings by standard compare with every other provider's?
-- definition: For each standard (1.1 to 1.4), the provider's indicative roll-up from
--   marts.fct_standard_indicative_ratings (the bands of each provider's latest indicator values, as mean
--   points: Outstanding 3, Good 2, Requires improvement 1, Inadequate 0) beside every provider's:
--   its rank by mean points among the providers that have them (1 = highest; ties share a rank), how
--   many providers have higher and lower mean points, how many share its indicative rating, the mean
--   of all providers' mean points, and how many providers have each indicative rating. Indicative
--   only: the lead inspector rates, the product does not. Every standard is listed, with nulls where
--   the provider has no roll-up.
-- param: provider_id text -- the provider (e.g. N07)
-- returns: standard_id, standard_name, provider_id, indicative_rating, mean_points, points_rank, providers_ranked,
--   providers_higher, providers_lower, providers_same_rating, national_mean_points, outstanding_providers,
--   good_providers, requires_improvement_providers, inadequate_providers, rule_version
with

ratings as (
    select
        standard_ratings.standard_id,
        standard_ratings.provider_id,
        standard_ratings.indicative_rating,
        standard_ratings.mean_points,
        standard_ratings.rule_version,
        case
            when standard_ratings.mean_points is not null
                then rank() over (
                        partition by standard_ratings.standard_id, standard_ratings.mean_points is null
                        order by standard_ratings.mean_points desc
                    )
        end as points_rank
    from marts.fct_standard_indicative_ratings as standard_ratings
),

standard_summaries as (
    select
        ratings.standard_id,
        count(ratings.mean_points) as providers_ranked,
        round(avg(ratings.mean_points), 3) as national_mean_points,
        count(*) filter (where ratings.indicative_rating = 'Outstanding') as outstanding_providers,
        count(*) filter (where ratings.indicative_rating = 'Good') as good_providers,
        count(*) filter (where ratings.indicative_rating = 'Requires improvement') as requires_improvement_providers,
        count(*) filter (where ratings.indicative_rating = 'Inadequate') as inadequate_providers
    from ratings
    group by ratings.standard_id
),

provider_ratings as (
    select ratings.*
    from ratings
    where ratings.provider_id = :'provider_id'
),

-- the other providers above and below the provider, and those sharing its rating
standings as (
    select
        provider_ratings.standard_id,
        count(*) filter (where other_ratings.mean_points > provider_ratings.mean_points) as providers_higher,
        count(*) filter (where other_ratings.mean_points < provider_ratings.mean_points) as providers_lower,
        count(*) filter (where other_ratings.indicative_rating = provider_ratings.indicative_rating)
            as providers_same_rating
    from provider_ratings
    inner join ratings as other_ratings
        on
            provider_ratings.standard_id = other_ratings.standard_id
            and provider_ratings.provider_id <> other_ratings.provider_id
    group by provider_ratings.standard_id
)

select
    dim_standard.standard_id,
    dim_standard.standard_name,
    cast(:'provider_id' as text) as provider_id,
    provider_ratings.indicative_rating,
    provider_ratings.mean_points,
    provider_ratings.points_rank,
    coalesce(standard_summaries.providers_ranked, 0) as providers_ranked,
    case when provider_ratings.mean_points is not null then coalesce(standings.providers_higher, 0) end
        as providers_higher,
    case when provider_ratings.mean_points is not null then coalesce(standings.providers_lower, 0) end
        as providers_lower,
    case when provider_ratings.indicative_rating is not null then coalesce(standings.providers_same_rating, 0) end
        as providers_same_rating,
    standard_summaries.national_mean_points,
    coalesce(standard_summaries.outstanding_providers, 0) as outstanding_providers,
    coalesce(standard_summaries.good_providers, 0) as good_providers,
    coalesce(standard_summaries.requires_improvement_providers, 0) as requires_improvement_providers,
    coalesce(standard_summaries.inadequate_providers, 0) as inadequate_providers,
    provider_ratings.rule_version
from marts.dim_standard
left join provider_ratings
    on dim_standard.standard_id = provider_ratings.standard_id
left join standard_summaries
    on dim_standard.standard_id = standard_summaries.standard_id
left join standings
    on dim_standard.standard_id = standings.standard_id
order by dim_standard.standard_id
