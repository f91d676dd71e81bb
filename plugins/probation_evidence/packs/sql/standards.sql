select
    standard_id,
    standard_name,
    standard_statement
from marts.dim_standard
order by standard_id
