-- Course attendances that count, dated by the course start (the 20 JP entitlement is per
-- calendar year): duplicates resolved, see stg_training_rows.
{{ quarter_incremental_config() }}

select
    employee_key,
    nama_pelatihan,
    jenis,
    penyelenggara,
    tanggal_mulai,
    tanggal_selesai,
    tahun,
    triwulan,
    jp,
    sertifikat,
    source_file,
    source_row,
    file_sha256,
    quarter
from {{ ref('stg_training_rows') }}
where is_kept and {{ quarter_rows_filter('training') }}
