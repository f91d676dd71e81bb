-- All indicators' long-format counts in one relation, with a data-quality flag from audit.submissions
-- (stg_audit__submissions): has_late_or_missing_data is true when any submission the indicator reads
-- (indicator_catalogue.source_entities) for that provider and period was late, missing or failed.
-- A provider-level row with null counts is added for each missing or failed submission that left
-- an indicator without a value, so missing evidence shows as a row rather than a gap.
-- Every family carries the same uncertainty columns (indicator_counts: second moments of the sampled
-- units for means and ratios, order-statistic limits for medians), null where an indicator has none.
with

staffing_counts as (
    select * from {{ ref('int_staffing_indicators_counted') }}
),

workload_counts as (
    select * from {{ ref('int_workload_indicators_counted') }}
),

ict_counts as (
    select * from {{ ref('int_ict_indicators_counted') }}
),

feedback_counts as (
    select * from {{ ref('int_feedback_indicators_counted') }}
),

services_counts as (
    select * from {{ ref('int_services_indicators_counted') }}
),

governance_counts as (
    select * from {{ ref('int_governance_indicators_counted') }}
),

indicator_catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

submissions as (
    select * from {{ ref('stg_audit__submissions') }}
),

unioned as (
    select * from staffing_counts
    union all
    select * from workload_counts
    union all
    select * from ict_counts
    union all
    select * from feedback_counts
    union all
    select * from services_counts
    union all
    select * from governance_counts
),

-- Submissions each indicator depends on, with their status.
indicator_submissions as (
    select
        indicator_catalogue.indicator_id,
        submissions.provider_id,
        submissions.period_end_date,
        submissions.status
    from indicator_catalogue
    inner join submissions
        on
            submissions.source || '.' || submissions.entity
            = any(string_to_array(indicator_catalogue.source_entities, ';'))
),

late_or_missing as (
    select
        indicator_id,
        provider_id,
        period_end_date,
        bool_or(status in ('late', 'missing', 'failed')) as has_late_or_missing_data,
        bool_or(status in ('missing', 'failed')) as has_missing_data
    from indicator_submissions
    group by indicator_id, provider_id, period_end_date
),

missing_rows as (
    select
        late_or_missing.indicator_id,
        late_or_missing.provider_id,
        cast(null as text) as pdu_code,
        late_or_missing.period_end_date,
        cast(null as numeric) as numerator,
        cast(null as numeric) as denominator,
        cast(null as text) as source_batch_ids,
        cast(null as integer) as sample_units,
        cast(null as numeric) as sum_x_squared,
        cast(null as numeric) as sum_y_squared,
        cast(null as numeric) as sum_xy,
        cast(null as numeric) as median_lower_95,
        cast(null as numeric) as median_upper_95,
        cast(null as numeric) as median_lower_998,
        cast(null as numeric) as median_upper_998
    from late_or_missing
    left join unioned
        on
            late_or_missing.indicator_id = unioned.indicator_id
            and late_or_missing.provider_id = unioned.provider_id
            and late_or_missing.period_end_date = unioned.period_end_date
            and unioned.pdu_code is null
    where late_or_missing.has_missing_data and unioned.indicator_id is null
),

completed as (
    select
        indicator_id,
        provider_id,
        pdu_code,
        period_end_date,
        numerator,
        denominator,
        source_batch_ids,
        {{ indicator_uncertainty_columns() }}
    from unioned
    union all
    select * from missing_rows
),

completed_keyed as (
    select
        {{ indicator_grain_key() }} as indicator_count_id,
        *
    from completed
),

final as (
    select
        completed_keyed.indicator_count_id,
        completed_keyed.indicator_id,
        completed_keyed.provider_id,
        completed_keyed.pdu_code,
        completed_keyed.period_end_date,
        completed_keyed.numerator,
        completed_keyed.denominator,
        completed_keyed.source_batch_ids,
        coalesce(late_or_missing.has_late_or_missing_data, false) as has_late_or_missing_data,
        {{ indicator_uncertainty_columns('completed_keyed.') }}
    from completed_keyed
    left join late_or_missing
        on
            completed_keyed.indicator_id = late_or_missing.indicator_id
            and completed_keyed.provider_id = late_or_missing.provider_id
            and completed_keyed.period_end_date = late_or_missing.period_end_date
)

select * from final
