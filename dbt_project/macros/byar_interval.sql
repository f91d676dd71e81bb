{#
    Byar's approximation to the exact Poisson interval for a rate o / d (o events over an exposure d),
    as used by public-health indicator profiles: lower = o (1 - 1/(9o) - z/(3 sqrt o))^3 / d,
    upper = (o + 1) (1 - 1/(9(o + 1)) + z/(3 sqrt(o + 1)))^3 / d. z = 1.959964 gives 95%, z = 3.090232
    gives 99.8%. Null when d <= 0 or o <= 0 (fewer than 10 events use the exact limits in the
    poisson_exact_limits seed instead; fct_indicator_values decides which applies).
#}
{% macro byar_lower(o, d, z=1.959964) -%}
    case
        when {{ d }} > 0 and {{ o }} > 0
            then
                {{ o }} * power(
                    1 - 1 / (9 * cast({{ o }} as numeric)) - {{ z }} / (3 * sqrt(cast({{ o }} as numeric))), 3
                ) / {{ d }}
    end
{%- endmacro %}

{% macro byar_upper(o, d, z=1.959964) -%}
    case
        when {{ d }} > 0 and {{ o }} >= 0
            then
                ({{ o }} + 1) * power(
                    1 - 1 / (9 * (cast({{ o }} as numeric) + 1)) + {{ z }} / (3 * sqrt(cast({{ o }} as numeric) + 1)), 3
                ) / {{ d }}
    end
{%- endmacro %}
