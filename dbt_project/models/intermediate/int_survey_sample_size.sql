-- Survey respondents per service unit x year against the Krejcie & Morgan sample its annual
-- service population asks for. Full outer join: a unit with a population and no respondents,
-- or respondents and no population figure, is shown rather than hidden.
with respondents as (
    select kode_opd, unit_layanan, tahun, cast(sum(n_responden) as integer) as n_responden
    from {{ ref('int_survey_unit_quarter') }}
    group by kode_opd, unit_layanan, tahun
),

joined as (
    select
        coalesce(r.kode_opd, p.kode_opd) as kode_opd,
        coalesce(r.unit_layanan, p.unit_layanan) as unit_layanan,
        coalesce(r.tahun, p.tahun) as tahun,
        p.populasi,
        coalesce(r.n_responden, 0) as n_responden
    from respondents as r
    full outer join {{ ref('stg_service_population') }} as p
        on r.kode_opd = p.kode_opd and r.unit_layanan = p.unit_layanan and r.tahun = p.tahun
)

select
    kode_opd,
    unit_layanan,
    tahun,
    populasi,
    n_responden,
    case when populasi > 0 then {{ krejcie_morgan('populasi') }} end as required_sample,
    case when populasi > 0 then n_responden >= {{ krejcie_morgan('populasi') }} end as adequate
from joined
