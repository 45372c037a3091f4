-- Training rows whose NIP (via employee_key) has no kept assessment in any period or year.
select
    t.employee_key,
    t.nama_pelatihan,
    t.tanggal_mulai,
    t.tahun,
    t.jp,
    t.source_file,
    t.source_row
from {{ ref('stg_training') }} as t
where not exists (
    select 1 from {{ ref('stg_assessments') }} as a where a.employee_key = t.employee_key
)
