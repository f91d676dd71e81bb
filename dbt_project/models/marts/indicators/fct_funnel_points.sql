-- One row per unit a funnel plots (funnel_plotted_units): a provider, or a PDU, on a proportion or rate
-- indicator in a period, not suppressed. Its z-score against the target (binomial or Poisson standard
-- error at its denominator), its adjusted z-score (with the funnel's applied tau^2 added to the variance:
-- the same as the z-score when the funnel is not adjusted) and where it lies on the funnel, polarity-aware,
-- from the adjusted z-score (so from the plain z-score unless the funnel is overdispersed).
-- Denominators and z-scores are rounded to 6 decimals; the position is read from the unrounded z-scores.
with

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
),

indicator_catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

funnel_summary as (
    select * from {{ ref('fct_funnel_summary') }}
),

plotted_units as (
    {{ funnel_plotted_units() }}
),

scored as (
    select
        plotted_units.*,
        funnel_summary.is_overdispersed,
        {{ funnel_z_score(
            'plotted_units.value', 'plotted_units.target_value', 'plotted_units.unit_variance'
        ) }} as z_score,
        {{ funnel_z_score(
            'plotted_units.value',
            'plotted_units.target_value',
            'plotted_units.unit_variance',
            'funnel_summary.applied_tau_squared'
        ) }} as adjusted_z_score
    from plotted_units
    inner join funnel_summary
        on
            plotted_units.indicator_id = funnel_summary.indicator_id
            and plotted_units.period_end_date = funnel_summary.period_end_date
            and plotted_units.unit_level = funnel_summary.unit_level
),

final as (
    select
        indicator_value_id as funnel_point_id,
        indicator_id,
        period_end_date,
        unit_level,
        provider_id,
        pdu_code,
        round(denominator, 6) as denominator,
        value,
        target_value,
        round(z_score, 6) as z_score,
        round(adjusted_z_score, 6) as adjusted_z_score,
        {{ funnel_position('case when is_overdispersed then adjusted_z_score else z_score end', 'polarity') }}
            as funnel_position
    from scored
)

select * from final
