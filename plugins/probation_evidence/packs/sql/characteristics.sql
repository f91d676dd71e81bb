select
    b.indicator_id,
    c.characteristic_id,
    c.rating,
    b.phrase,
    c.characteristic_text
from marts.bridge_indicator_characteristic as b
inner join marts.dim_characteristic as c on b.characteristic_id = c.characteristic_id
order by b.indicator_id asc, c.rating_rank desc, c.paragraph_number asc, c.characteristic_id asc
