-- Agency x quarter: assessments of period 'TW q', SKM of surveys dated in the quarter, and
-- training JP of courses starting in the quarter, with change vs the immediately preceding
-- quarter (NULL when that quarter is not in the mart).
with spine as (
    select * from {{ ref('int_agency_quarter_spine') }}
),

assessment as (
    select a.*, p.triwulan
    from {{ ref('int_agency_period_assessment') }} as a
    inner join {{ ref('periods') }} as p on a.periode = p.periode
    where p.kind = 'quarterly'
),

survey as (
    select
        kode_opd,
        tahun,
        triwulan,
        sum(n_responden) as n_responden,
        {%- for i in range(1, 10) %}
        sum(score_sum_u{{ i }}) / nullif(sum(n_answered_u{{ i }}), 0) as nrr_u{{ i }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_survey_unit_quarter') }}
    group by kode_opd, tahun, triwulan
),

training as (
    select
        ay.kode_opd,
        ay.tahun,
        q.triwulan,
        count(*) as n_employees,
        coalesce(sum(
            case q.triwulan
                {%- for q in range(1, 5) %} when {{ q }} then t.jp_q{{ q }}{% endfor %}
            end
        ), 0) as jp_total,
        count(*) filter (where
            case q.triwulan
                {%- for q in range(1, 5) %} when {{ q }} then t.jp_ytd_q{{ q }}{% endfor %}
            end >= 20
        ) as n_reached_20jp
    from {{ ref('int_employee_agency_year') }} as ay
    cross join (values (1), (2), (3), (4)) as q (triwulan)
    left join {{ ref('int_training_employee_year') }} as t
        on ay.employee_key = t.employee_key and ay.tahun = t.tahun
    group by ay.kode_opd, ay.tahun, q.triwulan
),

measures as (
    select
        s.kode_opd,
        ag.nama_opd,
        ag.pemda,
        s.tahun,
        s.triwulan,
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
        {{ skm_index('sv.nrr_') }} as ikm,
        coalesce(sv.n_responden, 0) as n_responden,
        {%- for i in range(1, 10) %}
        sv.nrr_u{{ i }},
        {%- endfor %}
        coalesce(tr.jp_total, 0) as jp_total,
        coalesce(tr.n_employees, 0) as n_employees,
        tr.jp_total / nullif(tr.n_employees, 0) as jp_per_employee,
        {{ share('tr.n_reached_20jp', 'tr.n_employees') }} as share_20jp
    from spine as s
    inner join {{ ref('stg_agencies') }} as ag on s.kode_opd = ag.kode_opd
    left join assessment as a
        on s.kode_opd = a.kode_opd and s.tahun = a.tahun and s.triwulan = a.triwulan
    left join survey as sv
        on s.kode_opd = sv.kode_opd and s.tahun = sv.tahun and s.triwulan = sv.triwulan
    left join training as tr
        on s.kode_opd = tr.kode_opd and s.tahun = tr.tahun and s.triwulan = tr.triwulan
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
    cast(c.triwulan as integer) as triwulan,
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
    cast(c.ikm as double) as ikm,
    cast(c.ikm_grade as varchar) as ikm_grade,
    cast(c.ikm_grade_label as varchar) as ikm_grade_label,
    cast(c.n_responden as integer) as n_responden,
    {%- for i in range(1, 10) %}
    cast(c.nrr_u{{ i }} as double) as nrr_u{{ i }},
    {%- endfor %}
    cast(c.jp_total as double) as jp_total,
    cast(c.n_employees as integer) as n_employees,
    cast(c.jp_per_employee as double) as jp_per_employee,
    cast(c.share_20jp as double) as share_20jp,
    cast(c.n_assessed - p.n_assessed as integer) as n_assessed_change,
    cast(c.mean_achievement - p.mean_achievement as double) as mean_achievement_change,
    cast(c.share_sangat_baik - p.share_sangat_baik as double) as share_sangat_baik_change,
    cast(c.ikm - p.ikm as double) as ikm_change,
    cast(c.share_20jp - p.share_20jp as double) as share_20jp_change
from graded as c
left join graded as p
    on c.kode_opd = p.kode_opd
    and p.tahun * 4 + p.triwulan = c.tahun * 4 + c.triwulan - 1
