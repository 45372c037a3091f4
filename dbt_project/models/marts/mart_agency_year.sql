-- Agency x year: assessments of the annual period (TAHUNAN), distribution-curve compliance,
-- SKM over the whole year, training JP and 20-JP coverage, training need, and change vs the
-- previous year (NULL when that year is not in the mart).
with spine as (
    select * from {{ ref('int_agency_year_spine') }}
),

assessment as (
    select *
    from {{ ref('int_agency_period_assessment') }}
    where periode = 'TAHUNAN'
),

curve as (
    select
        kode_opd,
        tahun,
        any_value(predikat_organisasi) as predikat_organisasi,
        case when count(passed) = count(*) then bool_and(passed) end as curve_compliant,
        string_agg(violation, '; ' order by rule_id) filter (where not passed)
            as curve_broken_rules
    from {{ ref('mart_distribution_curve') }}
    group by kode_opd, tahun
),

survey as (
    select
        kode_opd,
        tahun,
        sum(n_responden) as n_responden,
        {%- for i in range(1, 10) %}
        sum(score_sum_u{{ i }}) / nullif(sum(n_answered_u{{ i }}), 0) as nrr_u{{ i }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_survey_unit_quarter') }}
    group by kode_opd, tahun
),

sample_size as (
    select
        kode_opd,
        tahun,
        -- NULL when no unit could be judged (no population given): not assessable, not 0
        case
            when count(adequate) > 0 then count(*) filter (where adequate = false)
        end as n_units_undersampled
    from {{ ref('int_survey_sample_size') }}
    group by kode_opd, tahun
),

training as (
    select
        ay.kode_opd,
        ay.tahun,
        count(*) as n_employees,
        coalesce(sum(t.jp_total), 0) as jp_total,
        count(*) filter (where t.reached_20jp) as n_reached_20jp
    from {{ ref('int_employee_agency_year') }} as ay
    left join {{ ref('int_training_employee_year') }} as t
        on ay.employee_key = t.employee_key and ay.tahun = t.tahun
    group by ay.kode_opd, ay.tahun
),

training_need as (
    select kode_opd, tahun, count(distinct employee_key) as n_training_need
    from {{ ref('int_training_need') }}
    group by kode_opd, tahun
),

measures as (
    select
        s.kode_opd,
        ag.nama_opd,
        ag.pemda,
        s.tahun,
        coalesce(a.n_assessed, 0) as n_assessed,
        coalesce(a.n_indicator_rows, 0) as n_indicator_rows,
        coalesce(a.n_sangat_baik, 0) as n_sangat_baik,
        coalesce(a.n_baik, 0) as n_baik,
        coalesce(a.n_butuh_perbaikan, 0) as n_butuh_perbaikan,
        coalesce(a.n_kurang_misconduct, 0) as n_kurang_misconduct,
        coalesce(a.n_sangat_kurang, 0) as n_sangat_kurang,
        {{ share('a.n_sangat_baik', 'a.n_assessed') }} as share_sangat_baik,
        {{ share('a.n_baik', 'a.n_assessed') }} as share_baik,
        {{ share('a.n_butuh_perbaikan', 'a.n_assessed') }} as share_butuh_perbaikan,
        {{ share('a.n_kurang_misconduct', 'a.n_assessed') }} as share_kurang_misconduct,
        {{ share('a.n_sangat_kurang', 'a.n_assessed') }} as share_sangat_kurang,
        a.mean_achievement,
        a.mean_self_supervisor_gap,
        coalesce(a.n_predikat_mismatch, 0) as n_predikat_mismatch,
        cv.predikat_organisasi,
        cv.curve_compliant,
        cv.curve_broken_rules,
        {{ skm_index('sv.nrr_') }} as ikm,
        coalesce(sv.n_responden, 0) as n_responden,
        {%- for i in range(1, 10) %}
        sv.nrr_u{{ i }},
        {%- endfor %}
        ss.n_units_undersampled,
        coalesce(tr.jp_total, 0) as jp_total,
        coalesce(tr.n_employees, 0) as n_employees,
        tr.jp_total / nullif(tr.n_employees, 0) as jp_per_employee,
        {{ share('tr.n_reached_20jp', 'tr.n_employees') }} as share_20jp,
        coalesce(tn.n_training_need, 0) as n_training_need
    from spine as s
    inner join {{ ref('stg_agencies') }} as ag on s.kode_opd = ag.kode_opd
    left join assessment as a on s.kode_opd = a.kode_opd and s.tahun = a.tahun
    left join curve as cv on s.kode_opd = cv.kode_opd and s.tahun = cv.tahun
    left join survey as sv on s.kode_opd = sv.kode_opd and s.tahun = sv.tahun
    left join sample_size as ss on s.kode_opd = ss.kode_opd and s.tahun = ss.tahun
    left join training as tr on s.kode_opd = tr.kode_opd and s.tahun = tr.tahun
    left join training_need as tn on s.kode_opd = tn.kode_opd and s.tahun = tn.tahun
),

graded as (
    select m.*, g.grade as ikm_grade, g.label as ikm_grade_label
    from measures as m
    left join {{ ref('ikm_grades') }} as g
        on cast(m.ikm as decimal(5, 2)) between g.min_index and g.max_index
)

select
    cast(c.kode_opd as varchar) as kode_opd,
    cast(c.nama_opd as varchar) as nama_opd,
    cast(c.pemda as varchar) as pemda,
    cast(c.tahun as integer) as tahun,
    cast(c.n_assessed as integer) as n_assessed,
    cast(c.n_indicator_rows as integer) as n_indicator_rows,
    cast(c.n_sangat_baik as integer) as n_sangat_baik,
    cast(c.n_baik as integer) as n_baik,
    cast(c.n_butuh_perbaikan as integer) as n_butuh_perbaikan,
    cast(c.n_kurang_misconduct as integer) as n_kurang_misconduct,
    cast(c.n_sangat_kurang as integer) as n_sangat_kurang,
    cast(c.share_sangat_baik as double) as share_sangat_baik,
    cast(c.share_baik as double) as share_baik,
    cast(c.share_butuh_perbaikan as double) as share_butuh_perbaikan,
    cast(c.share_kurang_misconduct as double) as share_kurang_misconduct,
    cast(c.share_sangat_kurang as double) as share_sangat_kurang,
    cast(c.mean_achievement as double) as mean_achievement,
    cast(c.mean_self_supervisor_gap as double) as mean_self_supervisor_gap,
    cast(c.n_predikat_mismatch as integer) as n_predikat_mismatch,
    cast(c.predikat_organisasi as varchar) as predikat_organisasi,
    cast(c.curve_compliant as boolean) as curve_compliant,
    cast(c.curve_broken_rules as varchar) as curve_broken_rules,
    cast(c.ikm as double) as ikm,
    cast(c.ikm_grade as varchar) as ikm_grade,
    cast(c.ikm_grade_label as varchar) as ikm_grade_label,
    cast(c.n_responden as integer) as n_responden,
    {%- for i in range(1, 10) %}
    cast(c.nrr_u{{ i }} as double) as nrr_u{{ i }},
    {%- endfor %}
    cast(c.n_units_undersampled as integer) as n_units_undersampled,
    cast(c.jp_total as double) as jp_total,
    cast(c.n_employees as integer) as n_employees,
    cast(c.jp_per_employee as double) as jp_per_employee,
    cast(c.share_20jp as double) as share_20jp,
    cast(c.n_training_need as integer) as n_training_need,
    cast(c.n_assessed - p.n_assessed as integer) as n_assessed_change,
    cast(c.mean_achievement - p.mean_achievement as double) as mean_achievement_change,
    cast(c.share_sangat_baik - p.share_sangat_baik as double) as share_sangat_baik_change,
    cast(c.ikm - p.ikm as double) as ikm_change,
    cast(c.share_20jp - p.share_20jp as double) as share_20jp_change
from graded as c
left join graded as p on c.kode_opd = p.kode_opd and p.tahun = c.tahun - 1
