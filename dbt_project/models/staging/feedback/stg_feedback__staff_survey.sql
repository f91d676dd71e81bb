with

source as (
    select * from {{ source('feedback', 'staff_survey') }}
),

renamed as (
    select
        {{ generate_surrogate_key([
            'provider_id', 'response_id', 'question_code', 'quarter_end_date'
        ]) }} as staff_survey_id,
        cast(response_id as text) as response_id,
        cast(provider_id as text) as provider_id,
        cast(pdu_code as text) as pdu_code,
        cast(question_code as text) as question_code,
        cast(response as integer) as response,
        cast(quarter_end_date as date) as quarter_end_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
