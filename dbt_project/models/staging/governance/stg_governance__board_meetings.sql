with

source as (
    select * from {{ source('governance', 'board_meetings') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'meeting_id', 'quarter_end_date']) }} as board_meeting_snapshot_id,
        cast(meeting_id as text) as meeting_id,
        cast(provider_id as text) as provider_id,
        cast(board_name as text) as board_name,
        cast(meeting_date as date) as meeting_date,
        cast(is_attended as boolean) as is_attended,
        cast(quarter_end_date as date) as quarter_end_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
