{#
    Shared arithmetic of the funnel plots (fct_funnel_summary, fct_funnel_limits, fct_funnel_points).

    Normal quantiles are constants: PostgreSQL 15 has no inverse normal or chi-square function.
    1.959964 is the two-sided 95% point, 3.090232 the two-sided 99.8% point, 1.644854 the one-sided
    95% point (used by the chi-square approximation below).
#}
{% macro funnel_z_95() -%}
    1.959964
{%- endmacro %}

{% macro funnel_z_998() -%}
    3.090232
{%- endmacro %}

{% macro funnel_z_one_sided_95() -%}
    1.644854
{%- endmacro %}

{#- Number of denominators in each funnel's grid of control limits (geometric spacing). -#}
{% macro funnel_grid_points() -%}
    40
{%- endmacro %}

{#- Fewest plotted units for which overdispersion is assessed. -#}
{% macro funnel_minimum_units() -%}
    5
{%- endmacro %}

{#
    Variance of a unit's value around the target at the unit's denominator:
    proportion (binomial): target (1 - target) / denominator;
    rate (Poisson, events per unit of exposure): target / denominator.
    Null for any other calculation type or a denominator that is not positive.
#}
{% macro funnel_variance(calculation_type, target, denominator) -%}
    case
        when {{ denominator }} > 0 and {{ calculation_type }} = 'proportion'
            then {{ target }} * (1 - {{ target }}) / {{ denominator }}
        when {{ denominator }} > 0 and {{ calculation_type }} = 'rate'
            then {{ target }} / {{ denominator }}
    end
{%- endmacro %}

{#
    z-score of a value against the target: (value - target) / sqrt(variance + extra_variance).
    extra_variance is the additive random-effects term (tau squared), 0 for the plain z-score.
    Null when the total variance is not positive (a target of 0 or 1 for a proportion, 0 for a rate).
#}
{% macro funnel_z_score(value, target, variance, extra_variance=0) -%}
    case
        when {{ variance }} + {{ extra_variance }} > 0
            then ({{ value }} - {{ target }}) / sqrt({{ variance }} + {{ extra_variance }})
    end
{%- endmacro %}

{#
    Upper 95% point of the chi-square distribution on df degrees of freedom, by the Wilson-Hilferty
    approximation: df (1 - 2 / (9 df) + z sqrt(2 / (9 df)))^3 with z = 1.644854. It runs slightly low,
    by under 0.5% from 4 degrees of freedom (9.456 against the exact 9.488 at df = 4, 16.902 against
    16.919 at df = 9, 55.753 against 55.758 at df = 40), so a borderline funnel is flagged a little
    sooner. Null when df is not positive.
#}
{% macro funnel_chi_square_upper_95(df) -%}
    case
        when {{ df }} > 0
            then {{ df }} * power(
                    1
                    - 2 / (9 * cast({{ df }} as numeric))
                    + {{ funnel_z_one_sided_95() }} * sqrt(2 / (9 * cast({{ df }} as numeric))),
                    3
                )
    end
{%- endmacro %}

{#
    A control limit: target + sign * z * standard_error (normal approximation), clipped to [0, 1] for
    proportions and at 0 for rates. standard_error is sqrt(s^2), or sqrt(s^2 + tau^2) for the adjusted
    limits; sign is '+' or '-'.
#}
{% macro funnel_limit(calculation_type, target, standard_error, z, sign) -%}
    case
        when {{ calculation_type }} = 'proportion'
            then least(1, greatest(0, {{ target }} {{ sign }} {{ z }} * {{ standard_error }}))
        else greatest(0, {{ target }} {{ sign }} {{ z }} * {{ standard_error }})
    end
{%- endmacro %}

{#
    Where a unit lies on the funnel, from its z-score and the indicator's polarity: beyond the 99.8% or
    the 95% limits, better or worse (polarity up: above is better; down: above is worse), or above or
    below (polarity none); 'within limits' inside the 95% limits; 'not placed' without a z-score.
#}
{% macro funnel_position(z, polarity) -%}
    case
        when {{ z }} is null then 'not placed'
        when abs({{ z }}) <= {{ funnel_z_95() }} then 'within limits'
        else
            case
                when {{ polarity }} = 'up' and {{ z }} > 0 then 'better'
                when {{ polarity }} = 'up' then 'worse'
                when {{ polarity }} = 'down' and {{ z }} > 0 then 'worse'
                when {{ polarity }} = 'down' then 'better'
                when {{ z }} > 0 then 'above'
                else 'below'
            end
            || case when abs({{ z }}) > {{ funnel_z_998() }} then ' (99.8%)' else ' (95%)' end
    end
{%- endmacro %}
