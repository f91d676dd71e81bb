-- The provider's own series for the trend charts: its last year of values, oldest first.
select
    indicator_id,
    period_end_date,
    value,
    lower_95,
    upper_95,
    national_value,
    is_suppressed
from marts.fct_indicator_values
where provider_id = %s and pdu_code is null and period_end_date <= %s and period_end_date > %s - 366
order by indicator_id, period_end_date
