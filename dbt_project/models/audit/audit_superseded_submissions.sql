-- Raw assessment rows dropped by the re-submission rule, with the file that won.
select
    employee_key,
    tahun,
    periode,
    kode_indikator,
    kode_opd,
    source_file,
    source_row,
    winning_source_file,
    drop_reason
from {{ ref('stg_assessment_rows') }}
where not is_kept
