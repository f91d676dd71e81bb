{#
    Statistics the warehouse computes once, so packs, planner queries and BI read the same numbers.
    PostgreSQL 15 has no erf() and no t or chi-square distribution functions: these macros supply the
    few that fct_indicator_values needs, as SQL expressions. Every argument is a SQL expression; every
    result is numeric (so it can be rounded with round(x, 6)) unless stated.
#}

{#-
    Upper tail of the standard normal, Q(x) = 1 - Phi(x), for x >= 0, by Hart's double-precision
    algorithm (Hart et al. 1968, "Computer Approximations", as set out by West 2005): a ratio of
    polynomials times exp(-x^2 / 2) below x = 7.07, a continued fraction above. Absolute error below
    1e-15 (checked against a reference implementation on a grid from 0 to 40). x is capped at 37, where
    Q is below 1e-299, so exp() never underflows.
-#}
{% macro normal_upper_tail(x) -%}
    {%- set a = 'least(abs(cast(' ~ x ~ ' as double precision)), 37)' -%}
    (
        case
            when {{ a }} < 7.07106781186547
                then exp(-power({{ a }}, 2) / 2)
                    * ((((((0.0352624965998911 * {{ a }} + 0.700383064443688) * {{ a }} + 6.37396220353165)
                    * {{ a }} + 33.912866078383) * {{ a }} + 112.079291497871) * {{ a }} + 221.213596169931)
                    * {{ a }} + 220.206867912376)
                    / (((((((0.0883883476483184 * {{ a }} + 1.75566716318264) * {{ a }} + 16.064177579207)
                    * {{ a }} + 86.7807322029461) * {{ a }} + 296.564248779674) * {{ a }} + 637.333633378831)
                    * {{ a }} + 793.826512519948) * {{ a }} + 440.413735824752)
            else exp(-power({{ a }}, 2) / 2)
                / ({{ a }} + 1 / ({{ a }} + 2 / ({{ a }} + 3 / ({{ a }} + 4 / ({{ a }} + 0.65)))))
                / 2.506628274631
        end
    )
{%- endmacro %}

{#- Standard normal distribution function Phi(x), absolute error below 1e-15 (see normal_upper_tail). -#}
{% macro normal_cdf(x) -%}
    cast(
        case
            when {{ x }} >= 0 then 1 - {{ normal_upper_tail(x) }}
            else {{ normal_upper_tail('-(' ~ x ~ ')') }}
        end
        as numeric
    )
{%- endmacro %}

{#-
    p-value of a chi-square statistic on 1 degree of freedom: P(chi2(1) >= c) = 2 Q(sqrt(c)), from
    the normal tail above (absolute error below 1e-15). Null when c is null or negative.
-#}
{% macro chi_square_1df_p_value(chi_square) -%}
    cast(
        case
            when {{ chi_square }} >= 0 then 2 * {{ normal_upper_tail('sqrt(' ~ chi_square ~ ')') }}
        end
        as numeric
    )
{%- endmacro %}

{#-
    Quantile of Student's t on df degrees of freedom at the normal quantile z (z = 1.959964 gives the
    97.5th percentile), by the Cornish-Fisher expansion in 1/df (Abramowitz and Stegun 26.7.5, four
    terms). Checked against exact quantiles: error below 2e-5 at 97.5% and below 1e-3 at 99.9% from 9
    degrees of freedom, smaller as df grows. Null when df < 1.
-#}
{% macro t_quantile(z, df) -%}
    {%- set g1 = (z ** 3 + z) / 4 -%}
    {%- set g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96 -%}
    {%- set g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384 -%}
    {%- set g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160 -%}
    case
        when {{ df }} >= 1
            then
                {{ z }}
                + {{ g1 }} / cast({{ df }} as numeric)
                + {{ g2 }} / power(cast({{ df }} as numeric), 2)
                + {{ g3 }} / power(cast({{ df }} as numeric), 3)
                + {{ g4 }} / power(cast({{ df }} as numeric), 4)
    end
{%- endmacro %}

{#-
    Two-sided p-value of Student's t statistic t on an integer df from 1 to max_df, exactly, by the
    finite series for integer degrees of freedom (Abramowitz and Stegun 26.7.3 and 26.7.4): with
    theta = atan(|t| / sqrt(df)), P(|T| < |t|) is 2 theta / pi plus, for odd df, (2 / pi) sin theta times
    a sum of powers of cos theta, or, for even df, sin theta times such a sum. Null outside 1..max_df.
-#}
{% macro t_two_sided_p_value(t, df, max_df=6) -%}
    {%- set theta = 'atan(abs(cast(' ~ t ~ ' as double precision)) / sqrt(cast(' ~ df ~ ' as double precision)))' -%}
    cast(
        case
            {%- for nu in range(1, max_df + 1) %}
                when {{ df }} = {{ nu }}
                    then 1 - (
                        {%- if nu % 2 == 1 %}
                            2 / pi() * (
                                {{ theta }}
                                {%- if nu >= 3 %}
                                    + sin({{ theta }}) * (
                                        {%- set ns = namespace(coefficient=1.0, terms=[]) -%}
                                        {%- for power_of_cos in range(1, nu - 1, 2) -%}
                                            {%- if power_of_cos > 1 -%}
                                                {%- set ns.coefficient = ns.coefficient * (power_of_cos - 1) / power_of_cos -%}
                                            {%- endif -%}
                                            {%- set ns.terms = ns.terms + [ns.coefficient ~ ' * power(cos(' ~ theta ~ '), ' ~ power_of_cos ~ ')'] -%}
                                        {%- endfor %}
                                        {{ ns.terms | join(' + ') }}
                                    )
                                {%- endif %}
                            )
                        {%- else %}
                            sin({{ theta }}) * (
                                {%- set ns = namespace(coefficient=1.0, terms=['1']) -%}
                                {%- for power_of_cos in range(2, nu - 1, 2) -%}
                                    {%- set ns.coefficient = ns.coefficient * (power_of_cos - 1) / power_of_cos -%}
                                    {%- set ns.terms = ns.terms + [ns.coefficient ~ ' * power(cos(' ~ theta ~ '), ' ~ power_of_cos ~ ')'] -%}
                                {%- endfor %}
                                {{ ns.terms | join(' + ') }}
                            )
                        {%- endif %}
                    )
            {%- endfor %}
        end
        as numeric
    )
{%- endmacro %}

{#-
    Rank of the order statistic that bounds a distribution-free interval for the median of n values
    (the normal approximation to the binomial ranks): lower rank round(n/2 - z sqrt(n)/2), upper rank
    round(1 + n/2 + z sqrt(n)/2). An array subscript outside 1..n gives null, so a sample too small for
    the level has no limit.
-#}
{% macro median_rank(n, z, side) -%}
    {%- if side == 'lower' -%}
        cast(round(cast({{ n }} as numeric) / 2 - {{ z }} * sqrt(cast({{ n }} as numeric)) / 2) as integer)
    {%- else -%}
        cast(round(1 + cast({{ n }} as numeric) / 2 + {{ z }} * sqrt(cast({{ n }} as numeric)) / 2) as integer)
    {%- endif -%}
{%- endmacro %}

{#-
    Order-statistic limit of the median of an expression, as an aggregate over the rows grouped: the
    value at median_rank in the ordered non-null values.
-#}
{% macro median_order_statistic(expression, z, side) -%}
    cast(
        (array_agg({{ expression }} order by {{ expression }}) filter (where {{ expression }} is not null))[
            {{ median_rank('count(' ~ expression ~ ')', z, side) }}
        ]
        as numeric
    )
{%- endmacro %}

{#-
    Standard error of a ratio of sums R = X / Y over n sampled units by linearisation (the delta
    method): var(R) = n / (n - 1) * sum((x - R y)^2) / Y^2, where sum((x - R y)^2) is expanded from the
    second moments as sum_xx - 2 R sum_xy + R^2 sum_yy (floored at 0 against rounding). For a mean
    (every y = 1, Y = n) this is s / sqrt(n). Null when n < 2 or Y <= 0.
-#}
{% macro ratio_standard_error(x_total, y_total, units, sum_xx, sum_yy, sum_xy) -%}
    case
        when {{ units }} >= 2 and {{ y_total }} > 0
            then sqrt(
                cast({{ units }} as numeric) / ({{ units }} - 1)
                * greatest(
                    {{ sum_xx }}
                    - 2 * ({{ x_total }} / {{ y_total }}) * {{ sum_xy }}
                    + power({{ x_total }} / {{ y_total }}, 2) * {{ sum_yy }},
                    0
                )
            ) / {{ y_total }}
    end
{%- endmacro %}
