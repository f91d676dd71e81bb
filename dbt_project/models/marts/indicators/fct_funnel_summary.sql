-- One row per funnel: proportion or rate indicator, period and unit level (providers, or PDUs, each
-- against the national value). Holds the target, the plotted units' count and denominator range, and the
-- overdispersion test and adjustment the funnel's limits and points use.
-- Method:
--   z = (value - target) / s, s^2 = target (1 - target) / denominator (binomial, proportions) or
--       target / denominator (Poisson, rates), over the unsuppressed units (funnel_plotted_units);
--   z winsorised at its 10th and 90th percentiles (percentile_cont: linear interpolation);
--   phi = sum(z_w^2) / n; overdispersed when n phi exceeds the upper 95% point of chi-square on n - 1
--       degrees of freedom (Wilson-Hilferty approximation, funnel_chi_square_upper_95);
--   tau^2 = max(0, (n phi - (n - 1)) / (sum w - sum w^2 / sum w)), w = 1 / s^2 (DerSimonian-Laird on the
--       winsorised z-scores); applied to the limits and points only when the funnel is overdispersed.
-- Not assessed with fewer than funnel_minimum_units() units or when the target leaves no spread.
-- Deterministic: no clock reads. Statistics are rounded to 6 decimals, tau^2 to 10.
with

indicator_values as (
    select * from {{ ref('fct_indicator_values') }}
),

indicator_catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

plotted_units as (
    {{ funnel_plotted_units() }}
),

scored as (
    select
        plotted_units.*,
        {{ funnel_z_score(
            'plotted_units.value', 'plotted_units.target_value', 'plotted_units.unit_variance'
        ) }} as z_score
    from plotted_units
),

-- materialized: computed once, not once per unit (the planner misjudges the row counts here)
winsor_bounds as materialized (
    select
        indicator_id,
        period_end_date,
        unit_level,
        cast(percentile_cont(0.1) within group (order by z_score) as numeric) as winsor_lower_z,
        cast(percentile_cont(0.9) within group (order by z_score) as numeric) as winsor_upper_z
    from scored
    where z_score is not null
    group by indicator_id, period_end_date, unit_level
),

winsorised as (
    select
        scored.*,
        winsor_bounds.winsor_lower_z,
        winsor_bounds.winsor_upper_z,
        least(greatest(scored.z_score, winsor_bounds.winsor_lower_z), winsor_bounds.winsor_upper_z) as winsorised_z
    from scored
    left join winsor_bounds
        on
            scored.indicator_id = winsor_bounds.indicator_id
            and scored.period_end_date = winsor_bounds.period_end_date
            and scored.unit_level = winsor_bounds.unit_level
),

aggregated as (
    select
        winsorised.indicator_id,
        winsorised.period_end_date,
        winsorised.unit_level,
        max(winsorised.calculation_type) as calculation_type,
        max(winsorised.target_value) as target_value,
        count(*) as unit_count,
        count(winsorised.z_score) as scored_unit_count,
        min(winsorised.denominator) as min_denominator,
        max(winsorised.denominator) as max_denominator,
        min(winsorised.winsor_lower_z) as winsor_lower_z,
        max(winsorised.winsor_upper_z) as winsor_upper_z,
        sum(power(winsorised.winsorised_z, 2)) as chi_square_statistic,
        sum(1 / winsorised.unit_variance) filter (where winsorised.z_score is not null) as sum_weights,
        sum(1 / power(winsorised.unit_variance, 2)) filter (where winsorised.z_score is not null) as sum_squared_weights
    from winsorised
    group by winsorised.indicator_id, winsorised.period_end_date, winsorised.unit_level
),

tested as (
    select
        aggregated.*,
        case
            when aggregated.scored_unit_count = 0
                then 'target leaves no spread (a proportion of 0 or 1, or a rate of 0)'
            when aggregated.scored_unit_count < {{ funnel_minimum_units() }}
                then 'fewer than {{ funnel_minimum_units() }} units'
        end as not_assessed_reason,
        aggregated.chi_square_statistic / nullif(aggregated.scored_unit_count, 0) as phi,
        case when aggregated.scored_unit_count > 0 then aggregated.scored_unit_count - 1 end as degrees_of_freedom,
        {{ funnel_chi_square_upper_95('(aggregated.scored_unit_count - 1)') }} as critical_value,
        greatest(
            0,
            (aggregated.chi_square_statistic - (aggregated.scored_unit_count - 1))
            / nullif(aggregated.sum_weights - aggregated.sum_squared_weights / aggregated.sum_weights, 0)
        ) as raw_tau_squared
    from aggregated
),

adjusted as (
    select
        tested.*,
        case when tested.not_assessed_reason is null then tested.chi_square_statistic > tested.critical_value end
            as is_overdispersed,
        case when tested.not_assessed_reason is null then round(tested.raw_tau_squared, 10) end as tau_squared
    from tested
),

final as (
    select
        indicator_id || '|' || to_char(period_end_date, 'YYYY-MM-DD') || '|' || unit_level as funnel_summary_id,
        indicator_id,
        period_end_date,
        unit_level,
        calculation_type,
        target_value,
        cast(unit_count as integer) as unit_count,
        min_denominator,
        max_denominator,
        round(winsor_lower_z, 6) as winsor_lower_z,
        round(winsor_upper_z, 6) as winsor_upper_z,
        round(phi, 6) as phi,
        round(chi_square_statistic, 6) as chi_square_statistic,
        cast(degrees_of_freedom as integer) as degrees_of_freedom,
        round(critical_value, 6) as critical_value,
        is_overdispersed,
        not_assessed_reason,
        tau_squared,
        case when is_overdispersed then tau_squared else 0 end as applied_tau_squared,
        coalesce(is_overdispersed and tau_squared > 0, false) as is_adjusted,
        case calculation_type
            when 'proportion'
                then 'binomial: z = (value - target) / sqrt(target (1 - target) / denominator)'
            else 'Poisson: z = (value - target) / sqrt(target / denominator)'
        end
        || '; z winsorised at its 10th and 90th percentiles; phi = sum(z_w^2) / n; overdispersed when'
        || ' n phi > chi-square(n - 1) upper 95% point (Wilson-Hilferty); limits target +/- z s'
        || ' (normal approximation, z = 1.959964 and 3.090232)' as funnel_method,
        case
            when not_assessed_reason is not null then 'none: overdispersion not assessed'
            when not is_overdispersed then 'none: not overdispersed'
            when tau_squared = 0 then 'none: tau^2 is 0'
            else
                'additive random effects: s^2 + tau^2, tau^2 = (n phi - (n - 1)) / (sum w - sum w^2 / sum w),'
                || ' w = 1 / s^2 (DerSimonian-Laird on the winsorised z-scores)'
        end as adjustment_method
    from adjusted
)

select * from final
