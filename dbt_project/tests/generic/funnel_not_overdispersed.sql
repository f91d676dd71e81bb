{#
    Generic test (warn): one row per funnel (indicator, period, unit level) found overdispersed, i.e. whose
    winsorised chi-square statistic exceeds the upper 95% point on n - 1 degrees of freedom. Meant to run
    at severity warn, so a build lists the overdispersed indicators without failing: their limits and
    points then use the additive random-effects adjustment.
#}
{% test funnel_not_overdispersed(model, flag_column='is_overdispersed') %}
    select
        indicator_id,
        period_end_date,
        unit_level,
        unit_count,
        phi,
        chi_square_statistic,
        critical_value,
        tau_squared
    from {{ model }}
    where {{ flag_column }}
{% endtest %}
