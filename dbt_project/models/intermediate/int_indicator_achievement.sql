-- One row per kept indicator row: achievement ratio and self-vs-supervisor gap.
select
    employee_key,
    tahun,
    periode,
    kode_indikator,
    kode_opd,
    penilai_key,
    target,
    realisasi,
    {{ achievement('realisasi', 'target') }} as achievement,
    {{ self_supervisor_gap('nilai_mandiri', 'nilai_atasan') }} as self_supervisor_gap,
    source_file,
    source_row
from {{ ref('stg_assessments') }}
