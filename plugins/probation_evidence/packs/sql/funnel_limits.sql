-- The limits a chart draws: the adjusted ones, which the marts make equal to the plain ones wherever the
-- funnel is not adjusted for overdispersion.
select
    l.indicator_id,
    l.unit_level,
    l.denominator,
    l.adjusted_lower_95 as lower_95,
    l.adjusted_upper_95 as upper_95,
    l.adjusted_lower_998 as lower_998,
    l.adjusted_upper_998 as upper_998
from marts.fct_funnel_limits as l
inner join unnest(%s::text[], %s::date[]) as wanted (indicator_id, period_end_date)
    on l.indicator_id = wanted.indicator_id and l.period_end_date = wanted.period_end_date
order by l.indicator_id, l.unit_level, l.denominator
