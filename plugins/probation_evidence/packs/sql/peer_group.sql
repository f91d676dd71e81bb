select
    g.peer_provider_id,
    p.provider_name,
    g.peer_rank,
    g.distance
from marts.dim_provider_peer as g
inner join marts.dim_provider as p on g.peer_provider_id = p.provider_id
where g.provider_id = %s
order by g.peer_rank, g.peer_provider_id
