with

source as (
    select * from {{ source('staffing', 'absences') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'absence_id', 'as_at_date']) }} as absence_snapshot_id,
        cast(absence_id as text) as absence_id,
        cast(staff_id as text) as staff_id,
        cast(provider_id as text) as provider_id,
        cast(pdu_code as text) as pdu_code,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(working_days_lost as numeric) as working_days_lost,
        cast(reason as text) as reason,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
