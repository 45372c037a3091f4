-- Raw rows dropped by the re-submission rule, with the file that won: assessment export rows
-- (per indicator) and SIASN records (per employee-period, kode_indikator NULL).
select
    'assessments' as source,
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

union all

select
    'siasn' as source,
    employee_key,
    tahun,
    periode,
    null as kode_indikator,
    kode_opd,
    source_file,
    source_row,
    winning_source_file,
    drop_reason
from {{ ref('stg_siasn') }}
where not is_kept
