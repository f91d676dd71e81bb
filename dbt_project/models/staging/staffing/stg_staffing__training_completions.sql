with

source as (
    select * from {{ source('staffing', 'training_completions') }}
),

renamed as (
    select
        {{ generate_surrogate_key([
            'provider_id', 'staff_id', 'course_code', 'due_date', 'as_at_date'
        ]) }} as training_completion_id,
        cast(staff_id as text) as staff_id,
        cast(provider_id as text) as provider_id,
        cast(course_code as text) as course_code,
        cast(is_mandatory as boolean) as is_mandatory,
        cast(due_date as date) as due_date,
        cast(completed_date as date) as completed_date,
        cast(hours as numeric) as hours,
        cast(as_at_date as date) as as_at_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
