{#
    Generic test on a statistical-neighbours table (one row per provider and peer): every provider in
    `providers` has exactly k = least(group_size, providers - 1) peers, ranked 1..k with no gap or repeat,
    each a different provider and none the provider itself. Returns one row per provider at fault, with
    what is wrong.
    group_size defaults to var('peer_group_size').
    Usage: data_tests: [{peer_groups_are_complete: {arguments: {providers: ref('dim_provider')}}}]
#}
{% test peer_groups_are_complete(model, providers, group_size=none) %}
    {%- set group_size = var('peer_group_size') if group_size is none else group_size -%}
    with

    providers as (
        select provider_id from {{ providers }}
    ),

    expected as (
        select least({{ group_size }}, count(*) - 1) as peer_group_size from providers
    ),

    peer_groups as (
        select
            provider_id,
            count(*) as peers,
            count(distinct peer_provider_id) as distinct_peers,
            count(distinct peer_rank) as distinct_ranks,
            min(peer_rank) as first_rank,
            max(peer_rank) as last_rank,
            count(*) filter (where peer_provider_id = provider_id) as self_peers,
            count(*) filter (
                where peer_provider_id not in (select providers.provider_id from providers)
            ) as unknown_peers
        from {{ model }}
        group by provider_id
    ),

    checked as (
        select
            coalesce(providers.provider_id, peer_groups.provider_id) as provider_id,
            expected.peer_group_size,
            coalesce(peer_groups.peers, 0) as peers,
            case
                when providers.provider_id is null then 'not a known provider'
                when coalesce(peer_groups.self_peers, 0) > 0 then 'the provider is its own peer'
                when coalesce(peer_groups.unknown_peers, 0) > 0 then 'a peer is not a known provider'
                when coalesce(peer_groups.peers, 0) <> expected.peer_group_size then 'not exactly k peers'
                when peer_groups.distinct_peers <> peer_groups.peers then 'a peer is listed twice'
                when
                    peer_groups.peers > 0
                    and (
                        peer_groups.distinct_ranks <> peer_groups.peers
                        or peer_groups.first_rank <> 1
                        or peer_groups.last_rank <> peer_groups.peers
                    )
                    then 'ranks are not 1..k'
            end as problem
        from providers
        full outer join peer_groups
            on providers.provider_id = peer_groups.provider_id
        cross join expected
    )

    select * from checked where problem is not null
{% endtest %}
