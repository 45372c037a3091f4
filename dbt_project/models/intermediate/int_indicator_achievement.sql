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
    realisasi / target as achievement,
    case
        when nilai_mandiri is not null and nilai_atasan is not null
            then nilai_mandiri - nilai_atasan
    end as self_supervisor_gap,
    source_file,
    source_row
from {{ ref('stg_assessments') }}
