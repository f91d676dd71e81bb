{#
    A test for a linear trend over each series' latest max_periods periods (this one and those before
    it), for fct_indicator_values. relation must have indicator_id, provider_id, pdu_code,
    period_end_date, calculation_type, polarity, numerator, denominator, value, period_number (the
    period's position in its series, the score), is_trend_point (the row's value may be used) and
    standard_error (from the 95% limits; null when there are none). Returns relation's rows with:
    trend_points (points among the periods), trend_method, trend_direction (sign of the score or
    slope), raw_trend_p_value (two-sided) and trend (the word, by polarity, at the 5% level).

    By calculation type (sums over the points, t = period number):
    - proportion: chi-square test for trend (Cochran-Armitage), U = sum t r - p sum t n with p = R / N,
      var U = p (1 - p) (sum t^2 n - (sum t n)^2 / N), chi2 = U^2 / var U on 1 df;
    - rate: Poisson score test for a log-linear trend in the rate given the exposures n: U as above with
      p = R / N the pooled rate, var U = p (sum t^2 n - (sum t n)^2 / N);
    - mean, ratio, median: weighted least squares with weights 1 / SE^2 (SEs taken as known), slope
      b = Sty / Stt, var b = 1 / Stt, chi2 = b^2 Stt; when a point has no SE, ordinary least squares
      with t = b / sqrt(RSS / (k - 2) / Stt) on k - 2 degrees of freedom (exact series).
    Fewer than min_points points: no test, 'not enough data'. Null trend word when polarity is none.
#}
{% macro linear_trend_test(relation, max_periods=8, min_points=5) -%}
    with

    trend_sums as (
        select
            {{ relation }}.*,
            count(*) filter (where is_trend_point) over recent_periods as trend_points,
            count(*) filter (where is_trend_point and standard_error is not null) over recent_periods
                as trend_points_with_error,
            -- counts (proportions: successes of trials; rates: events in exposure)
            sum(denominator) filter (where is_trend_point) over recent_periods as sum_n,
            sum(numerator) filter (where is_trend_point) over recent_periods as sum_r,
            sum(period_number * numerator) filter (where is_trend_point) over recent_periods as sum_tr,
            sum(period_number * denominator) filter (where is_trend_point) over recent_periods as sum_tn,
            sum(period_number * period_number * denominator) filter (where is_trend_point) over recent_periods
                as sum_ttn,
            -- values, weighted by 1 / SE^2 and unweighted
            sum(1 / power(standard_error, 2)) filter (where is_trend_point) over recent_periods as sum_w,
            sum(period_number / power(standard_error, 2)) filter (where is_trend_point) over recent_periods
                as sum_wt,
            sum(value / power(standard_error, 2)) filter (where is_trend_point) over recent_periods as sum_wy,
            sum(period_number * period_number / power(standard_error, 2))
                filter (where is_trend_point) over recent_periods as sum_wtt,
            sum(period_number * value / power(standard_error, 2))
                filter (where is_trend_point) over recent_periods as sum_wty,
            sum(period_number) filter (where is_trend_point) over recent_periods as sum_t,
            sum(value) filter (where is_trend_point) over recent_periods as sum_y,
            sum(period_number * period_number) filter (where is_trend_point) over recent_periods as sum_tt,
            sum(period_number * value) filter (where is_trend_point) over recent_periods as sum_ty,
            sum(value * value) filter (where is_trend_point) over recent_periods as sum_yy
        from {{ relation }}
        window recent_periods as (
            partition by indicator_id, provider_id, coalesce(pdu_code, 'ALL')
            order by period_end_date
            rows between {{ max_periods - 1 }} preceding and current row
        )
    ),

    trend_methods as (
        select
            trend_sums.*,
            case
                when trend_points < {{ min_points }} then null
                when calculation_type = 'proportion' then 'chi-square test for trend (Cochran-Armitage)'
                when calculation_type = 'rate' then 'Poisson score test for trend'
                when trend_points_with_error = trend_points then 'weighted least-squares slope'
                else 'least-squares slope'
            end as trend_method,
            -- the score statistic U of the count tests
            sum_tr - sum_r / nullif(sum_n, 0) * sum_tn as count_score,
            -- centred sums of squares and products of the scores (weighted by n, by 1 / SE^2, or not)
            sum_ttn - power(sum_tn, 2) / nullif(sum_n, 0) as score_spread_counts,
            sum_wtt - power(sum_wt, 2) / nullif(sum_w, 0) as score_spread_weighted,
            sum_wty - sum_wt * sum_wy / nullif(sum_w, 0) as score_value_weighted,
            sum_tt - power(sum_t, 2) / nullif(trend_points, 0) as score_spread,
            sum_ty - sum_t * sum_y / nullif(trend_points, 0) as score_value,
            sum_yy - power(sum_y, 2) / nullif(trend_points, 0) as value_spread
        from trend_sums
    ),

    trend_statistics as (
        select
            trend_methods.*,
            case
                when calculation_type in ('proportion', 'rate') then sign(count_score)
                when trend_method = 'weighted least-squares slope' then sign(score_value_weighted)
                else sign(score_value)
            end as trend_direction,
            case
                when trend_method = 'chi-square test for trend (Cochran-Armitage)'
                    then case
                            when sum_r / sum_n * (1 - sum_r / sum_n) * score_spread_counts > 0
                                then power(count_score, 2) / (sum_r / sum_n * (1 - sum_r / sum_n) * score_spread_counts)
                            when count_score = 0 then 0
                        end
                when trend_method = 'Poisson score test for trend'
                    then case
                            when sum_r / sum_n * score_spread_counts > 0
                                then power(count_score, 2) / (sum_r / sum_n * score_spread_counts)
                            when count_score = 0 then 0
                        end
                when trend_method = 'weighted least-squares slope' and score_spread_weighted > 0
                    then power(score_value_weighted, 2) / score_spread_weighted
            end as trend_chi_square,
            -- residual sum of squares of the unweighted fit
            value_spread - power(score_value, 2) / nullif(score_spread, 0) as residual_spread
        from trend_methods
    ),

    trend_p_values as (
        select
            trend_statistics.*,
            case
                when trend_method = 'least-squares slope'
                    then case
                            when score_spread is null or score_spread <= 0 then null
                            when residual_spread <= 0 then case when score_value = 0 then 1 else 0 end
                            else {{ t_two_sided_p_value(
                                    'score_value / score_spread / sqrt(residual_spread / (trend_points - 2) / score_spread)',
                                    'trend_points - 2',
                                    max_df=max_periods - 2
                                ) }}
                        end
                else {{ chi_square_1df_p_value('trend_chi_square') }}
            end as raw_trend_p_value
        from trend_statistics
    )

    select
        trend_p_values.*,
        case
            when polarity not in ('down', 'up') then null
            when trend_points < {{ min_points }} then 'not enough data'
            when raw_trend_p_value is null or raw_trend_p_value >= 0.05 then 'stable'
            when trend_direction > 0 then case polarity when 'up' then 'improving' else 'worsening' end
            when trend_direction < 0 then case polarity when 'up' then 'worsening' else 'improving' end
            else 'stable'
        end as trend
    from trend_p_values
{%- endmacro %}
