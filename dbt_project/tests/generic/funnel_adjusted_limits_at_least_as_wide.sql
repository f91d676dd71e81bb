{#
    Generic test: the overdispersion-adjusted limits are at least as wide as the plain ones at both
    levels (adjusted lower <= lower, adjusted upper >= upper), and equal to them where the funnel is
    not adjusted. Returns the rows that break either rule.
#}
{% test funnel_adjusted_limits_at_least_as_wide(model) %}
    select *
    from {{ model }}
    where
        not (
            adjusted_lower_998 <= lower_998
            and adjusted_lower_95 <= lower_95
            and adjusted_upper_95 >= upper_95
            and adjusted_upper_998 >= upper_998
        )
        or (
            not is_adjusted
            and (
                adjusted_lower_998 <> lower_998
                or adjusted_lower_95 <> lower_95
                or adjusted_upper_95 <> upper_95
                or adjusted_upper_998 <> upper_998
            )
        )
{% endtest %}
