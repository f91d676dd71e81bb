{#
    Generic test: on every row of a funnel's limits, lower_998 <= lower_95 <= target_value <= upper_95 <=
    upper_998, and the same for the adjusted limits (prefix adjusted_). Returns the rows out of order.
#}
{% test funnel_limits_ordered(model, prefix='') %}
    select *
    from {{ model }}
    where not (
        {{ prefix }}lower_998 <= {{ prefix }}lower_95
        and {{ prefix }}lower_95 <= target_value
        and target_value <= {{ prefix }}upper_95
        and {{ prefix }}upper_95 <= {{ prefix }}upper_998
    )
{% endtest %}
