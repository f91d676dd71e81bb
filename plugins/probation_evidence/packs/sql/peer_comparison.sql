select
    c.indicator_id,
    c.peer_value,
    c.peer_count,
    c.peer_comparison
from marts.fct_indicator_peer_comparison as c
inner join unnest(%s::text[], %s::date[]) as wanted (indicator_id, period_end_date)
    on c.indicator_id = wanted.indicator_id and c.period_end_date = wanted.period_end_date
where c.provider_id = %s
