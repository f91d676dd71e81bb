{#
    Wilson score interval for a proportion x / n (Wilson 1927; the method used by public-health
    indicator profiles). z = 1.959964 gives 95%, z = 3.090232 gives 99.8%.
    Null when n <= 0, x < 0 or x > n (e.g. a negative vacancy when over-established).
    x and n may be non-integer (FTE): the formula is applied as written.
#}
{% macro wilson_lower(x, n, z=1.959964) -%}
    {{ _wilson_limit(x, n, z, '-') }}
{%- endmacro %}

{% macro wilson_upper(x, n, z=1.959964) -%}
    {{ _wilson_limit(x, n, z, '+') }}
{%- endmacro %}

{% macro _wilson_limit(x, n, z, sign) -%}
    case
        when {{ n }} > 0 and {{ x }} >= 0 and {{ x }} <= {{ n }}
            then (
                (
                    cast({{ x }} as numeric) / {{ n }}
                    + power({{ z }}, 2) / (2 * {{ n }})
                )
                {{ sign }} {{ z }} * sqrt(
                    (cast({{ x }} as numeric) / {{ n }})
                    * (1 - cast({{ x }} as numeric) / {{ n }}) / {{ n }}
                    + power({{ z }}, 2) / (4 * power({{ n }}, 2))
                )
            ) / (1 + power({{ z }}, 2) / {{ n }})
    end
{%- endmacro %}
