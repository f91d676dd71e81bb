select
    standard_id,
    indicative_rating,
    mean_points,
    rule_version
from marts.fct_standard_indicative_ratings
where provider_id = %s
