-- Assessment measures per agency x tahun x periode, shared by the quarter and year marts.
-- Means are over employees (each employee-period weighs once), not over indicator rows.
select
    kode_opd,
    tahun,
    periode,
    cast(count(distinct employee_key) as integer) as n_assessed,
    cast(sum(n_indicators) as integer) as n_indicator_rows,
    cast(count(*) filter (where predikat = 'Sangat Baik') as integer) as n_sangat_baik,
    cast(count(*) filter (where predikat = 'Baik') as integer) as n_baik,
    cast(count(*) filter (where predikat = 'Butuh Perbaikan') as integer) as n_butuh_perbaikan,
    cast(count(*) filter (where predikat = 'Kurang/Misconduct') as integer) as n_kurang_misconduct,
    cast(count(*) filter (where predikat = 'Sangat Kurang') as integer) as n_sangat_kurang,
    avg(mean_achievement) as mean_achievement,
    avg(mean_self_supervisor_gap) as mean_self_supervisor_gap,
    cast(count(*) filter (where not predikat_matches) as integer) as n_predikat_mismatch
from {{ ref('int_employee_period') }}
group by kode_opd, tahun, periode
