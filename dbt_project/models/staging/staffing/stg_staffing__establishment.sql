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
        cast(_batch_id as text) as batch_id,
        cast(_loaded_at as timestamptz) as loaded_at,
        cast(_source_file as text) as source_file,
        cast(_row_number as integer) as source_row_number
    from source
)

select * from renamed
