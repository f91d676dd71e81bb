with

source as (
    select * from {{ source('governance', 'premises_audits') }}
),

renamed as (
    select
        {{ generate_surrogate_key(['provider_id', 'site_id', 'quarter_end_date']) }} as premises_audit_snapshot_id,
        cast(site_id as text) as site_id,
        cast(provider_id as text) as provider_id,
        cast(pdu_code as text) as pdu_code,
        cast(audit_date as date) as audit_date,
        cast(is_accessible as boolean) as is_accessible,
        cast(is_safe as boolean) as is_safe,
        cast(quarter_end_date as date) as quarter_end_date,
        {{ load_metadata_columns() }}
    from source
)

select * from renamed
