select
    s.indicator_id,
    s.unit_level,
    s.target_value,
    s.is_overdispersed,
    s.adjustment_method,
    s.funnel_method
from marts.fct_funnel_summary as s
inner join unnest(%s::text[], %s::date[]) as wanted (indicator_id, period_end_date)
    on s.indicator_id = wanted.indicator_id and s.period_end_date = wanted.period_end_date
