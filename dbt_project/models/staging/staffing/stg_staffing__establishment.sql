with

source as (
    select * from {{ source('staffing', 'establishment') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'pdu_code', 'grade', 'as_at_date']) }} as establishment_id,
        cast(provider_id as text) as provider_id,
        cast(pdu_code as text) as pdu_code,
        cast(grade as text) as grade,
        cast(funded_fte as numeric(8, 2)) as funded_fte,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
