-- Every provider's value in each indicator's period (the provider against all others).
select
    v.indicator_id,
    v.provider_id,
    p.provider_name,
    v.value,
    v.lower_95,
    v.upper_95,
    v.is_suppressed
from marts.fct_indicator_values as v
inner join marts.dim_provider as p on v.provider_id = p.provider_id
inner join unnest(%s::text[], %s::date[]) as wanted (indicator_id, period_end_date)
    on v.indicator_id = wanted.indicator_id and v.period_end_date = wanted.period_end_date
where v.pdu_code is null
order by v.indicator_id, v.provider_id
