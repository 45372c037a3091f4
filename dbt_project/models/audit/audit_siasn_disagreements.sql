-- Employee-periods in both formats (own assessment export and BKN SIASN) whose ratings or
-- predikat differ. The export row is the one int_employee_period keeps (it carries the
-- indicators); this lists what SIASN said instead, so the two systems can be reconciled.
-- One row per employee_key x tahun x periode in both formats with any difference.
with export as (
    select
        employee_key,
        tahun,
        periode,
        kode_opd,
        predikat,
        rating_hasil_kerja,
        rating_perilaku,
        source_file
    from {{ ref('int_employee_period') }}
    where source = 'export'
)

select
    e.employee_key,
    e.tahun,
    e.periode,
    e.kode_opd,
    e.predikat as predikat_export,
    s.predikat as predikat_siasn,
    e.rating_hasil_kerja as rating_hasil_kerja_export,
    s.rating_hasil_kerja as rating_hasil_kerja_siasn,
    e.rating_perilaku as rating_perilaku_export,
    s.rating_perilaku as rating_perilaku_siasn,
    e.predikat is distinct from s.predikat as predikat_differs,
    (e.rating_hasil_kerja is distinct from s.rating_hasil_kerja
        or e.rating_perilaku is distinct from s.rating_perilaku) as ratings_differ,
    e.kode_opd is distinct from s.kode_opd as agency_differs,
    e.source_file as export_source_file,
    s.source_file as siasn_source_file,
    s.source_row as siasn_source_row
from export as e
inner join {{ ref('stg_siasn') }} as s
    on e.employee_key = s.employee_key and e.tahun = s.tahun and e.periode = s.periode
    and s.is_kept
where (e.predikat is distinct from s.predikat
    or e.rating_hasil_kerja is distinct from s.rating_hasil_kerja
    or e.rating_perilaku is distinct from s.rating_perilaku)
