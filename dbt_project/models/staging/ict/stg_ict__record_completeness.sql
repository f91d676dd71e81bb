with

source as (
    select * from {{ source('ict', 'record_completeness') }}
),

renamed as (
    select
        {{ generate_surrogate_key([
            'provider_id', 'pdu_code', 'month_end_date', 'as_at_date'
        ]) }} as record_completeness_id,
        cast(provider_id as text) as provider_id,
        cast(pdu_code as text) as pdu_code,
        cast(month_end_date as date) as month_end_date,
        cast(cases as integer) as cases,
        cast(cases_with_diversity_recorded as integer) as cases_with_diversity_recorded,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
