-- Each provider's statistical neighbours: the k providers whose circumstances (int_provider_context) are
-- closest to its own, k = least(var peer_group_size, number of providers - 1).
-- Method:
--   standardise: each measure becomes a z-score across providers, (value - mean) / population standard
--     deviation, so a measure counts the same whatever its unit; a measure every provider shares (standard
--     deviation 0), or one a provider has no data for, scores 0 (the mean) and so separates nobody;
--   distance: Euclidean, the square root of the sum over measures of the squared difference in z-scores,
--     rounded to 6 decimals;
--   rank: nearest first; equal (rounded) distances go to the lower peer provider_id, so a rebuild on the
--     same data always picks the same peers.
-- Each row names the peer and its distance only: the measures behind it are in dim_provider_context.
-- Planners only: a row names another provider, which a provider-scoped reader must never see (row-level
-- security would show it its own rows, peers and all), nor the BI role, which a provider login may also
-- hold. The yml's grants leave out provider_reader and bi_reader, and the default privileges that give
-- them every new marts table are revoked here, after the project's post-hooks.
{{ config(post_hook=["revoke all on {{ this }} from provider_reader, bi_reader"]) }}

with

provider_context as (
    select * from {{ ref('int_provider_context') }}
),

peer_group as (
    select least({{ var('peer_group_size') }}, count(*) - 1) as peer_group_size
    from provider_context
),

measures as (
    select
        provider_context.provider_id,
        measure.measure_name,
        measure.measure_value
    from provider_context
    cross join lateral (
        values
        ('mean_weekly_active_cases', cast(provider_context.mean_weekly_active_cases as numeric)),
        ('high_tier_case_proportion', cast(provider_context.high_tier_case_proportion as numeric)),
        ('establishment_fte', cast(provider_context.establishment_fte as numeric)),
        ('pdu_count', cast(provider_context.pdu_count as numeric))
    ) as measure (measure_name, measure_value)
),

measure_spread as (
    select
        measure_name,
        avg(measure_value) as mean_value,
        stddev_pop(measure_value) as standard_deviation
    from measures
    group by measure_name
),

standardised as (
    select
        measures.provider_id,
        measures.measure_name,
        case
            when measures.measure_value is null or coalesce(measure_spread.standard_deviation, 0) = 0 then 0
            else (measures.measure_value - measure_spread.mean_value) / measure_spread.standard_deviation
        end as z_score
    from measures
    inner join measure_spread
        on measures.measure_name = measure_spread.measure_name
),

distances as (
    select
        provider_scores.provider_id,
        peer_scores.provider_id as peer_provider_id,
        round(sqrt(sum(power(provider_scores.z_score - peer_scores.z_score, 2))), 6) as distance
    from standardised as provider_scores
    inner join standardised as peer_scores
        on
            provider_scores.measure_name = peer_scores.measure_name
            and provider_scores.provider_id <> peer_scores.provider_id
    group by provider_scores.provider_id, peer_scores.provider_id
),

ranked as (
    select
        distances.*,
        row_number() over (
            partition by distances.provider_id
            order by distances.distance, distances.peer_provider_id
        ) as peer_rank
    from distances
),

final as (
    select
        ranked.provider_id || '|' || ranked.peer_provider_id as provider_peer_id,
        ranked.provider_id,
        ranked.peer_provider_id,
        cast(ranked.peer_rank as integer) as peer_rank,
        ranked.distance
    from ranked
    inner join peer_group
        on ranked.peer_rank <= peer_group.peer_group_size
)

select * from final
