-- The provider's PDUs in each indicator's period.
select
    v.indicator_id,
    v.pdu_code,
    v.value,
    v.lower_95,
    v.upper_95,
    v.comparison,
    v.is_suppressed
from marts.fct_indicator_values as v
inner join unnest(%s::text[], %s::date[]) as wanted (indicator_id, period_end_date)
    on v.indicator_id = wanted.indicator_id and v.period_end_date = wanted.period_end_date
where v.provider_id = %s and v.pdu_code is not null
order by v.indicator_id, v.pdu_code
