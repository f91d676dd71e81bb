-- Providers are plotted with their names; PDUs by code, the pack's own provider's PDUs as the focus.
select
    f.indicator_id,
    f.unit_level,
    f.provider_id,
    coalesce(f.pdu_code, f.provider_id) as unit_id,
    case when f.unit_level = 'provider' then p.provider_name else f.pdu_code end as unit_label,
    f.denominator,
    f.value,
    f.funnel_position
from marts.fct_funnel_points as f
inner join marts.dim_provider as p on f.provider_id = p.provider_id
inner join unnest(%s::text[], %s::date[]) as wanted (indicator_id, period_end_date)
    on f.indicator_id = wanted.indicator_id and f.period_end_date = wanted.period_end_date
order by f.indicator_id, f.unit_level, f.denominator, unit_id
