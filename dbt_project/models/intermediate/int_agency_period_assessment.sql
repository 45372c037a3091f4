-- Assessment measures per agency x tahun x periode, shared by the quarter and year marts.
-- Means are over employees (each employee-period weighs once), not over indicator rows.
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
        {%- for p in predikat_levels() %}
        cast(count(*) filter (where predikat = '{{ p.label }}') as integer) as n_{{ p.slug }},
        {%- endfor %}
        avg(mean_achievement) as mean_achievement,
        avg(mean_self_supervisor_gap) as mean_self_supervisor_gap,
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
