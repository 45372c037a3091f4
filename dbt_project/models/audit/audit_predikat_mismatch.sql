-- Indicator rows whose exported predikat disagrees with the PermenPANRB 6/2022 matrix applied
-- to the row's own two ratings. Kept in the data (not quarantined): this is a finding.
select
    a.employee_key,
    a.kode_opd,
    a.tahun,
    a.periode,
    a.kode_indikator,
    a.rating_hasil_kerja,
    a.rating_perilaku,
    a.predikat as predikat_exported,
    m.predikat as predikat_expected,
    a.source_file,
    a.source_row
from {{ ref('stg_assessments') }} as a
inner join {{ ref('predikat_matrix') }} as m
    on a.rating_hasil_kerja = m.rating_hasil_kerja and a.rating_perilaku = m.rating_perilaku
where a.predikat <> m.predikat
