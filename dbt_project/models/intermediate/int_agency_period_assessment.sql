-- Assessment measures per agency x tahun x periode, shared by the quarter and year marts.
-- Means are over employees (each employee-period weighs once), not over indicator rows.
-- Predikat counts are over every employee assessed (export or SIASN); mean_achievement and
-- mean_self_supervisor_gap need indicator rows, so they are over the n_with_indicators
-- employees that have them: a ratings-only SIASN record is not assessable for them (not a
-- missing value), and an agency-period with SIASN records only has them NULL.
-- triwulan and period_kind come with the period from the periods seed (via
-- int_employee_period): the quarter mart takes the quarterly periods, the year mart TAHUNAN.
with counted as (
    select
        kode_opd,
        tahun,
        periode,
        triwulan,
        period_kind,
        cast(count(distinct employee_key) as integer) as n_assessed,
        cast(sum(n_indicators) as integer) as n_indicator_rows,
        cast(count(distinct employee_key) filter (where n_indicators > 0) as integer)
            as n_with_indicators,
        {%- for p in predikat_levels() %}
        cast(count(*) filter (where predikat = '{{ p.label }}') as integer) as n_{{ p.slug }},
        {%- endfor %}
        avg(mean_achievement) filter (where n_indicators > 0) as mean_achievement,
        avg(mean_self_supervisor_gap) filter (where n_indicators > 0)
            as mean_self_supervisor_gap,
        cast(count(*) filter (where not predikat_matches) as integer) as n_predikat_mismatch
    from {{ ref('int_employee_period') }}
    -- triwulan and period_kind follow from periode: grouping by them adds no groups
    group by kode_opd, tahun, periode, triwulan, period_kind
)

select
    kode_opd,
    tahun,
    periode,
    triwulan,
    period_kind,
    n_assessed,
    n_indicator_rows,
    n_with_indicators,
    {%- for p in predikat_levels() %}
    n_{{ p.slug }},
    {%- endfor %}
    {%- for p in predikat_levels() %}
    {{ share('n_' ~ p.slug, 'n_assessed') }} as share_{{ p.slug }},
    {%- endfor %}
    mean_achievement,
    mean_self_supervisor_gap,
    n_predikat_mismatch
from counted
