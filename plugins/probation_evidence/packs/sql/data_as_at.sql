-- The latest period with indicator values on or before the run date: the pack's "data as at".
select max(period_end_date) as as_at_date from marts.fct_indicator_values
where period_end_date <= %s
