{#-
    Polarity-aware comparison of a row's interval with a reference value (national, or the peers'):
    'better' or 'worse' when the reference lies outside [lower, upper] (a reference above the interval is
    better when the polarity is down), 'similar' inside, 'not compared' without an interval, a reference
    or a polarity of down or up. Arguments are SQL expressions.
-#}
{% macro interval_comparison(lower, upper, reference, polarity) -%}
    case
        when
            {{ lower }} is null
            or {{ upper }} is null
            or {{ reference }} is null
            or coalesce({{ polarity }}, 'none') not in ('down', 'up')
            then 'not compared'
        when {{ reference }} > {{ upper }}
            then case {{ polarity }} when 'down' then 'better' else 'worse' end
        when {{ reference }} < {{ lower }}
            then case {{ polarity }} when 'down' then 'worse' else 'better' end
        else 'similar'
    end
{%- endmacro %}
