{#- Domain formulas shared by several models, kept in one place. The rules, their regulations
    and worked examples: docs/domain.md. -#}

{#- Tolerance for comparing a share (count / n) with a bound from the curve seed: shares are
    exact ratios, the tolerance only absorbs binary rounding, so 70% passes `<= 0.7` and
    70.1% does not. -#}
{% macro curve_epsilon() %}1e-9{% endmacro %}

{#- Whether an observed share satisfies `operator bound` (NULL share -> NULL);
    docs/domain.md#distribution-curve. -#}
{% macro curve_rule_passed(share, operator, bound) -%}
case {{ operator }}
    when '>'  then {{ share }} >  {{ bound }} + {{ curve_epsilon() }}
    when '>=' then {{ share }} >= {{ bound }} - {{ curve_epsilon() }}
    when '<'  then {{ share }} <  {{ bound }} - {{ curve_epsilon() }}
    when '<=' then {{ share }} <= {{ bound }} + {{ curve_epsilon() }}
end
{%- endmacro %}

{#- Published SKM index (25..100) from the nine NRR expressions, PermenPANRB 14/2017:
    IKM = sum(NRR_i * 1/9), index = IKM * 25, rounded to two decimals. The weight is exactly
    1/9 (the sum divided by 9): a rounded weight such as 0.111 understates every index.
    docs/domain.md#skm-index. -#}
{% macro skm_index(nrr_prefix) -%}
round((
    {%- for i in range(1, 10) %}{{ nrr_prefix }}u{{ i }}{% if not loop.last %} + {% endif %}{% endfor -%}
) / 9.0 * 25, 2)
{%- endmacro %}

{#- Krejcie & Morgan (1970) required sample for population N:
    s = X² N P(1-P) / (d² (N-1) + X² P(1-P)), chi-square X² = 3.841 (1 df, 95%), P = 0.5,
    margin d = 0.05, rounded to the nearest integer (half up): the rounding that reproduces
    every entry of their Table 1 (N = 30,000: s = 379.26 -> 379; N = 40,000: 380.46 -> 380).
    Rounding up gives 380 and 381 there and misses 45 of the table's 90 entries; rounding
    down misses 45 others. tests/test_krejcie_morgan.py checks every entry.
    docs/domain.md#skm-sample-size. -#}
{% macro krejcie_morgan(population) -%}
cast(floor(
    3.841 * {{ population }} * 0.25
    / (0.0025 * ({{ population }} - 1) + 3.841 * 0.25)
    + 0.5
) as integer)
{%- endmacro %}

{#- Age band from age in completed years at the end of the assessment year. -#}
{% macro age_band(age) -%}
case
    when {{ age }} < 30 then '<30'
    when {{ age }} < 40 then '30-39'
    when {{ age }} < 50 then '40-49'
    when {{ age }} is not null then '50+'
end
{%- endmacro %}

{#- Share as a DOUBLE, NULL when the denominator is 0. -#}
{% macro share(numerator, denominator) -%}
(cast({{ numerator }} as double) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- Achievement (capaian) of an indicator row: realisasi over target (target is never 0 in
    staging); docs/domain.md#capaian. -#}
{#- Capaian (achievement) of one indicator value as a fraction, 1.0 = 100%
    (docs/domain.md#indicator-direction): arah naik (higher is better) R/T; arah turun (lower is
    better: time, cost) (2T - R)/T floored at 0 (PermenPANRB 8/2021). NULL when the target is 0
    or missing. Never capped. Python twin: pipelines/rules/indicator.py capaian(). -#}
{% macro capaian(realisasi, target, arah) -%}
case
    when {{ target }} is null or {{ target }} = 0 or {{ realisasi }} is null then null
    when {{ arah }} = 'turun'
        then greatest((2 * {{ target }} - {{ realisasi }}) / {{ target }}, 0)
    else {{ realisasi }} / {{ target }}
end
{%- endmacro %}

{#- The capaian band (seed capaian_bands, Permendagri 86/2017 criteria as local governments
    apply them) of a capaian given as a fraction: the best band whose lower bound the capaian
    in percent (rounded to 9 decimals: 0.9 * 100 is 90.00000000000001 in floating point) strictly
    exceeds (90.5% -> Sangat Tinggi, 90% -> Tinggi, above 100% -> Sangat Tinggi); NULL for NULL. Python twin: pipelines/rules/indicator.py band(). -#}
{% macro capaian_band(fraction) -%}
(
    select b.band
    from {{ ref('capaian_bands') }} as b
    where round({{ fraction }} * 100, 9) > coalesce(b.lower_exclusive_pct, '-infinity'::double)
    order by b.band_order
    limit 1
)
{%- endmacro %}

{#- Self-assessment minus the supervisor's score, when both are present. -#}
{% macro self_supervisor_gap(nilai_mandiri, nilai_atasan) -%}
case
    when {{ nilai_mandiri }} is not null and {{ nilai_atasan }} is not null
        then {{ nilai_mandiri }} - {{ nilai_atasan }}
end
{%- endmacro %}
