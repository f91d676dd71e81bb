with

source as (
    select * from {{ source('staffing', 'supervisions') }}
),

renamed as (
    select
        {{ generate_surrogate_key([
            'provider_id', 'staff_id', 'supervision_date', 'kind', 'as_at_date'
        ]) }} as supervision_id,
        cast(staff_id as text) as staff_id,
        cast(provider_id as text) as provider_id,
        cast(supervision_date as date) as supervision_date,
        cast(kind as text) as kind,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
