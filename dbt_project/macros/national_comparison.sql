{#-
    Polarity-aware comparison of a row's interval with the national value: 'better' or 'worse' when the
    national value lies outside [lower, upper] (a national value above the interval is better when the
    polarity is down), 'similar' inside, 'not compared' without an interval, a national value or a
    polarity of down or up. Arguments are SQL expressions.
-#}
{% macro national_comparison(lower, upper, national_value, polarity) -%}
    case
        when
            {{ lower }} is null
            or {{ upper }} is null
            or {{ national_value }} is null
            or {{ polarity }} not in ('down', 'up')
            then 'not compared'
        when {{ national_value }} > {{ upper }}
            then case {{ polarity }} when 'down' then 'better' else 'worse' end
        when {{ national_value }} < {{ lower }}
            then case {{ polarity }} when 'down' then 'worse' else 'better' end
        else 'similar'
    end
{%- endmacro %}
