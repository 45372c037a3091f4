-- One row per employee_key x tahun x periode. Employee-level fields repeat on every indicator
-- row; when they disagree (see audit_employee_field_conflicts) the value on the first row of
-- the winning file is used, so the choice is deterministic. Achievement (the direction-aware
-- capaian) and gap come from the same macros as int_indicator_achievement, not from a join
-- with it (two 25M-row tables at 1M employees). predikat_expected applies the rating matrix (predikat_matrix seed,
-- docs/domain.md#rating-matrix); triwulan, period_kind and period_end_date come from the periods
-- seed (docs/domain.md#quarters).
-- Two formats feed it (docs/domain.md#siasn-records): the own assessment exports
-- (source = 'export', with indicator rows) and BKN SIASN records (source = 'siasn', ratings
-- only: n_indicators = 0, achievement and self/supervisor gap NULL = not assessable, not
-- missing). An employee-period in both keeps the export row, which carries the indicators;
-- where the two disagree the pair is listed in audit_siasn_disagreements.
with rows as (
    select
        a.*,
        {{ capaian('a.realisasi', 'a.target', 'r.arah') }} as achievement,
        {{ self_supervisor_gap('a.nilai_mandiri', 'a.nilai_atasan') }} as self_supervisor_gap
    from {{ ref('stg_assessments') }} as a
    left join {{ ref('int_indicator_rule') }} as r on a.kode_indikator = r.kode_indikator
),

per_period as (
    select
        employee_key,
        tahun,
        periode,
        arg_min(kode_opd, source_row) as kode_opd,
        arg_min(golongan, source_row) as golongan,
        arg_min(jenis_jabatan, source_row) as jenis_jabatan,
        arg_min(gender, source_row) as gender,
        arg_min(birth_year, source_row) as birth_year,
        arg_min(appointment_year, source_row) as appointment_year,
        arg_min(is_pppk, source_row) as is_pppk,
        arg_min(rating_hasil_kerja, source_row) as rating_hasil_kerja,
        arg_min(rating_perilaku, source_row) as rating_perilaku,
        arg_min(predikat, source_row) as predikat,
        arg_min(penilai_key, source_row) as penilai_key,
        avg(achievement) as mean_achievement,
        avg(self_supervisor_gap) as mean_self_supervisor_gap,
        count(*) as n_indicators,
        min(source_file) as source_file,
        'export' as source
    from rows
    group by employee_key, tahun, periode
),

siasn as (
    select
        s.employee_key,
        s.tahun,
        s.periode,
        s.kode_opd,
        s.golongan,
        s.jenis_jabatan,
        s.gender,
        s.birth_year,
        s.appointment_year,
        s.is_pppk,
        s.rating_hasil_kerja,
        s.rating_perilaku,
        s.predikat,
        s.penilai_key,
        cast(null as double) as mean_achievement,
        cast(null as double) as mean_self_supervisor_gap,
        0 as n_indicators,
        s.source_file,
        'siasn' as source
    from {{ ref('stg_siasn') }} as s
    where s.is_kept and not exists (
        select 1
        from per_period as e
        where e.employee_key = s.employee_key and e.tahun = s.tahun and e.periode = s.periode
    )
),

both_formats as (
    select * from per_period
    union all by name
    select * from siasn
)

select
    p.employee_key,
    p.tahun,
    p.periode,
    pr.triwulan,
    pr.kind as period_kind,
    last_day(make_date(p.tahun, pr.end_month, 1)) as period_end_date,
    p.kode_opd,
    p.golongan,
    g.golongan_rank,
    p.jenis_jabatan,
    p.gender,
    p.birth_year,
    p.tahun - p.birth_year as age,
    {{ age_band('p.tahun - p.birth_year') }} as age_band,
    p.appointment_year,
    p.is_pppk,
    p.rating_hasil_kerja,
    p.rating_perilaku,
    p.predikat,
    m.predikat as predikat_expected,
    p.predikat = m.predikat as predikat_matches,
    p.mean_achievement,
    p.mean_self_supervisor_gap,
    p.penilai_key,
    cast(p.n_indicators as integer) as n_indicators,
    p.source_file,
    p.source
from both_formats as p
left join {{ ref('periods') }} as pr on p.periode = pr.periode
left join {{ ref('golongan') }} as g on p.golongan = g.golongan
left join {{ ref('predikat_matrix') }} as m
    on p.rating_hasil_kerja = m.rating_hasil_kerja and p.rating_perilaku = m.rating_perilaku
