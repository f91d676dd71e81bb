-- Governance indicators (L01, L05, I06, I07, I10) in long format per provider (and PDU for
-- premises) for each quarter-end register snapshot.
with

board_meetings as (
    select * from {{ ref('stg_governance__board_meetings') }}
),

risks as (
    select * from {{ ref('stg_governance__risks') }}
),

policies as (
    select * from {{ ref('stg_governance__policies') }}
),

premises_audits as (
    select * from {{ ref('stg_governance__premises_audits') }}
),

audit_actions as (
    select * from {{ ref('stg_governance__audit_actions') }}
),

counted as (
    {{ indicator_counts('L01', 'board_meetings',
        "count(*) filter (where is_attended)", "count(*)", 'quarter_end_date', by_pdu=false) }}
    union all
    {{ indicator_counts('L05', 'risks',
        "count(*) filter (where last_reviewed_date > cast(quarter_end_date - interval '3 months' as date))",
        "count(*)", 'quarter_end_date', by_pdu=false, where="status = 'open'") }}
    union all
    {{ indicator_counts('I06', 'policies',
        "count(*) filter (where next_review_date >= quarter_end_date)", "count(*)",
        'quarter_end_date', by_pdu=false) }}
    union all
    {{ indicator_counts('I07', 'premises_audits',
        "count(*) filter (where is_accessible and is_safe)", "count(*)", 'quarter_end_date') }}
    union all
    {{ indicator_counts('I10', 'audit_actions',
        "count(*) filter (where closed_date <= due_date)", "count(*)",
        'quarter_end_date', by_pdu=false,
        where="due_date <= quarter_end_date and due_date > cast(quarter_end_date - interval '1 year' as date)") }}
),

final as (
    {{ indicator_counts_keyed('counted') }}
)

select * from final
