insert into audit.pack_publications (
    publication_id, inspection_id, provider_id, pack_version, as_at_date,
    data_sha256, html_sha256, csv_sha256, reason, published_at
)
values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
