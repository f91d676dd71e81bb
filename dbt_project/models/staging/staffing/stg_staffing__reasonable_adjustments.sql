with

source as (
    select * from {{ source('staffing', 'reasonable_adjustments') }}
),

renamed as (
    select
        {{ generate_surrogate_key([
            'provider_id', 'adjustment_id', 'as_at_date'
        ]) }} as reasonable_adjustment_snapshot_id,
        cast(adjustment_id as text) as adjustment_id,
        cast(staff_id as text) as staff_id,
        cast(provider_id as text) as provider_id,
        cast(adjustment_type as text) as adjustment_type,
        cast(requested_date as date) as requested_date,
        cast(in_place_date as date) as in_place_date,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
