-- Agency x year: assessments of the annual period (TAHUNAN), distribution-curve compliance,
-- SKM over the whole year, training JP and 20-JP coverage, training need, and change vs the
-- previous year (NULL when that year is not in the mart). Every measure is prepared in an
-- intermediate model; this model joins them to the spine and casts them to the contract
-- (column blocks: macros/agency_measures.sql).
with measures as (
    select
        cast(s.kode_opd as varchar) as kode_opd,
        cast(ag.nama_opd as varchar) as nama_opd,
        cast(ag.pemda as varchar) as pemda,
        cast(s.tahun as integer) as tahun,
        {{ agency_assessment_columns('a') }},
        cast(cv.predikat_organisasi as varchar) as predikat_organisasi,
        cast(cv.curve_compliant as boolean) as curve_compliant,
        cast(cv.curve_broken_rules as varchar) as curve_broken_rules,
        {{ agency_survey_columns('sv') }},
        cast(ss.n_units_undersampled as integer) as n_units_undersampled,
        {{ agency_training_columns('tr') }},
        cast(coalesce(tr.n_training_need, 0) as integer) as n_training_need
    from {{ ref('int_agency_year_spine') }} as s
    inner join {{ ref('stg_agencies') }} as ag on s.kode_opd = ag.kode_opd
    left join {{ ref('int_agency_period_assessment') }} as a
        on s.kode_opd = a.kode_opd and s.tahun = a.tahun and a.periode = 'TAHUNAN'
    left join {{ ref('int_agency_year_curve') }} as cv
        on s.kode_opd = cv.kode_opd and s.tahun = cv.tahun
    left join {{ ref('int_agency_year_survey') }} as sv
        on s.kode_opd = sv.kode_opd and s.tahun = sv.tahun
    left join {{ ref('int_agency_year_sample_size') }} as ss
        on s.kode_opd = ss.kode_opd and s.tahun = ss.tahun
    left join {{ ref('int_agency_year_training') }} as tr
        on s.kode_opd = tr.kode_opd and s.tahun = tr.tahun
)

select
    c.*,
    {{ agency_change_columns('c', 'p') }}
from measures as c
left join measures as p on c.kode_opd = p.kode_opd and p.tahun = c.tahun - 1
