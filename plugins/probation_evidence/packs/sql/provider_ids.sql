select provider_id from marts.dim_provider
order by provider_id
