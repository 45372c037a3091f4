-- Agency x quarter: assessments of period 'TW q', SKM of surveys dated in the quarter, and
-- training JP of courses starting in the quarter, with change vs the immediately preceding
-- quarter (NULL when that quarter is not in the mart). Every measure is prepared in an
-- intermediate model; this model joins them to the spine and casts them to the contract
-- (column blocks: macros/agency_measures.sql).
with measures as (
    select
        cast(s.kode_opd as varchar) as kode_opd,
        cast(ag.nama_opd as varchar) as nama_opd,
        cast(ag.pemda as varchar) as pemda,
        cast(s.tahun as integer) as tahun,
        cast(s.triwulan as integer) as triwulan,
        {{ agency_assessment_columns('a') }},
        {{ agency_survey_columns('sv') }},
        {{ agency_training_columns('tr') }}
    from {{ ref('int_agency_quarter_spine') }} as s
    inner join {{ ref('stg_agencies') }} as ag on s.kode_opd = ag.kode_opd
    -- the quarterly period of the quarter (periods seed: TW q -> quarter q)
    left join {{ ref('int_agency_period_assessment') }} as a
        on s.kode_opd = a.kode_opd
        and s.tahun = a.tahun
        and a.period_kind = 'quarterly'
        and s.triwulan = a.triwulan
    left join {{ ref('int_agency_quarter_survey') }} as sv
        on s.kode_opd = sv.kode_opd and s.tahun = sv.tahun and s.triwulan = sv.triwulan
    left join {{ ref('int_agency_quarter_training') }} as tr
        on s.kode_opd = tr.kode_opd and s.tahun = tr.tahun and s.triwulan = tr.triwulan
)

select
    c.*,
    {{ agency_change_columns('c', 'p') }}
from measures as c
left join measures as p
    on c.kode_opd = p.kode_opd
    and p.tahun * 4 + p.triwulan = c.tahun * 4 + c.triwulan - 1
