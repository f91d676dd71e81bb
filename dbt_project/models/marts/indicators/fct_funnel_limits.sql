-- Control limits of each funnel (fct_funnel_summary) on a grid of denominators: funnel_grid_points()
-- denominators spaced geometrically from the smallest to the largest plotted denominator (one when they
-- are equal): denominator_k = min * (max / min)^((k - 1) / (points - 1)).
-- Limits: target +/- z s, s^2 = target (1 - target) / denominator (binomial) or target / denominator
-- (Poisson), z = 1.959964 (95%) and 3.090232 (99.8%): a normal approximation. The adjusted limits add the
-- funnel's applied tau^2 (s^2 + tau^2; the same as the plain limits when the funnel is not adjusted).
-- Proportion limits are clipped to [0, 1], rate limits at 0. Denominators are rounded to 6 decimals before
-- the limits are computed at them; limits are rounded to 6 decimals.
with

funnel_summary as (
    select * from {{ ref('fct_funnel_summary') }}
),

grid as (
    select
        funnel_summary.indicator_id,
        funnel_summary.period_end_date,
        funnel_summary.unit_level,
        funnel_summary.calculation_type,
        funnel_summary.target_value,
        funnel_summary.applied_tau_squared,
        funnel_summary.is_adjusted,
        grid_steps.grid_step,
        case
            when funnel_summary.max_denominator > funnel_summary.min_denominator
                then round(
                        funnel_summary.min_denominator * power(
                            funnel_summary.max_denominator / funnel_summary.min_denominator,
                            cast(grid_steps.grid_step - 1 as numeric) / ({{ funnel_grid_points() }} - 1)
                        ),
                        6
                    )
            else round(funnel_summary.min_denominator, 6)
        end as denominator
    from funnel_summary
    cross join lateral generate_series(
        1,
        case
            when funnel_summary.max_denominator > funnel_summary.min_denominator then {{ funnel_grid_points() }}
            else 1
        end
    ) as grid_steps (grid_step)
),

-- materialized: each square root is taken once, not once per limit that reads it
with_standard_errors as materialized (
    select
        grid.*,
        sqrt({{ funnel_variance('grid.calculation_type', 'grid.target_value', 'grid.denominator') }})
            as standard_error,
        sqrt(
            {{ funnel_variance('grid.calculation_type', 'grid.target_value', 'grid.denominator') }}
            + grid.applied_tau_squared
        ) as adjusted_standard_error
    from grid
),

limited as (
    select
        with_standard_errors.*,
        {{ funnel_limit('calculation_type', 'target_value', 'standard_error', funnel_z_95(), '-') }}
            as lower_95,
        {{ funnel_limit('calculation_type', 'target_value', 'standard_error', funnel_z_95(), '+') }}
            as upper_95,
        {{ funnel_limit('calculation_type', 'target_value', 'standard_error', funnel_z_998(), '-') }}
            as lower_998,
        {{ funnel_limit('calculation_type', 'target_value', 'standard_error', funnel_z_998(), '+') }}
            as upper_998,
        {{ funnel_limit('calculation_type', 'target_value', 'adjusted_standard_error', funnel_z_95(), '-') }}
            as adjusted_lower_95,
        {{ funnel_limit('calculation_type', 'target_value', 'adjusted_standard_error', funnel_z_95(), '+') }}
            as adjusted_upper_95,
        {{ funnel_limit('calculation_type', 'target_value', 'adjusted_standard_error', funnel_z_998(), '-') }}
            as adjusted_lower_998,
        {{ funnel_limit('calculation_type', 'target_value', 'adjusted_standard_error', funnel_z_998(), '+') }}
            as adjusted_upper_998
    from with_standard_errors
),

final as (
    select
        indicator_id || '|' || to_char(period_end_date, 'YYYY-MM-DD') || '|' || unit_level || '|' || grid_step
            as funnel_limit_id,
        indicator_id,
        period_end_date,
        unit_level,
        cast(grid_step as integer) as grid_step,
        denominator,
        target_value,
        round(lower_998, 6) as lower_998,
        round(lower_95, 6) as lower_95,
        round(upper_95, 6) as upper_95,
        round(upper_998, 6) as upper_998,
        round(adjusted_lower_998, 6) as adjusted_lower_998,
        round(adjusted_lower_95, 6) as adjusted_lower_95,
        round(adjusted_upper_95, 6) as adjusted_upper_95,
        round(adjusted_upper_998, 6) as adjusted_upper_998,
        is_adjusted
    from limited
)

select * from final
