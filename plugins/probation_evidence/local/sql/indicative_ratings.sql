select
    provider_id,
    standard_id,
    indicative_rating,
    rule_version
from marts.fct_standard_indicative_ratings
order by provider_id, standard_id
