select
    pack_version,
    data_sha256,
    html_sha256
from audit.pack_publications
where inspection_id = %s
order by pack_version desc
limit 1
