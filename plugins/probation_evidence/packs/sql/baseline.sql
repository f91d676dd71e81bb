select distinct on (v.indicator_id)
    v.indicator_id,
    v.period_end_date,
    v.value,
    v.is_suppressed
from marts.fct_indicator_values as v
where v.provider_id = %s and v.pdu_code is null and v.period_end_date <= %s
order by v.indicator_id asc, v.period_end_date desc
